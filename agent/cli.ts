/** The `linkward` command line: daemon, status, config, and the commands each feature adds. */
import { Command, CommanderError } from 'commander';
import { registerConfigCommands } from './cli/config.ts';
import { resolveConfigPath } from './config/load.ts';
import { registerStatusCommand } from './cli/status.ts';
import { runDaemon } from './daemon.ts';
import { codeOf, isLwError, messageOf } from './errors.ts';
import { Exit } from './exit-codes.ts';
import { VERSION } from './version.ts';

/** Builds the program (exported for tests). */
export function buildProgram(): Command {
  const program = new Command('linkward')
    .description('Keeps k3s edge nodes working through bad networks')
    .option('-c, --config <file>', 'config file (default: $LINKWARD_CONFIG, else /etc/linkward/config.yaml if present, else built-in defaults)')
    .showHelpAfterError('(run "linkward --help" for usage)')
    .exitOverride();

  program
    .command('run')
    .description('Run the agent (foreground; under systemd Type=notify)')
    .option('--log-format <format>', 'json or pretty (overrides log.format)')
    .option('--log-level <level>', 'overrides log.level')
    .option('--listen <host:port>', 'overrides server.listen')
    .option('--state-dir <dir>', 'overrides state.dir')
    .action(async (o: { logFormat?: 'json' | 'pretty'; logLevel?: string; listen?: string; stateDir?: string }, cmd: Command) => {
      installFatalHandlers();
      process.exitCode = await runDaemon({ configPath: resolveRunConfig(cmd), ...o });
    });

  program
    .command('version')
    .description('Print the version')
    .option('--json', 'as JSON')
    .action((o: { json?: boolean }) => {
      process.stdout.write(o.json ? JSON.stringify({ version: VERSION, node: process.versions.node }) + '\n' : `linkward ${VERSION} (node ${process.versions.node})\n`);
    });

  registerStatusCommand(program);
  registerConfigCommands(program);
  return program;
}

function resolveRunConfig(cmd: Command): string | undefined {
  return resolveConfigPath(cmd.optsWithGlobals<{ config?: string }>().config);
}

/** A fatal error is logged with its code and exits non-zero so systemd restarts the agent. */
function installFatalHandlers(): void {
  const die = (kind: string) => (e: unknown) => {
    process.stderr.write(JSON.stringify({ level: 60, time: Date.now(), msg: `${kind}: ${messageOf(e)}`, code: codeOf(e) }) + '\n');
    process.exit(Exit.FAILURE);
  };
  process.on('uncaughtException', die('uncaught exception'));
  process.on('unhandledRejection', die('unhandled rejection'));
}

/** Entry point: parses argv and maps errors to exit codes. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? 0 : Exit.DOWN;
      return;
    }
    process.stderr.write(`linkward: ${messageOf(e)}\n`);
    process.exitCode = isLwError(e, 'LW_CONFIG_INVALID') ? Exit.CONFIG_INVALID : Exit.FAILURE;
  }
}

if (import.meta.main) await main(process.argv);
