/** The `linkward` command line: daemon, status, config, and the commands each feature adds. */
import { Command, CommanderError } from 'commander';
import { registerConfigCommands } from './cli/config.ts';
import { resolveConfigPath } from './config/load.ts';
import { registerStatusCommand } from './cli/status.ts';
import { runDaemon } from './daemon.ts';
import { codeOf, isLwError, messageOf } from './errors.ts';
import { Exit } from './exit-codes.ts';
import { VERSION } from './version.ts';

type Register = (program: Command) => void;

/**
 * Feature commands, loaded only when invoked (or for help): the daemon's `run` then never loads
 * what the one-shot commands need (probe engine, API clients), which keeps the agent's RSS low.
 */
const FEATURE_COMMANDS: Record<string, () => Promise<Register>> = {
  probe: async () => (await import('./cli/probe.ts')).registerProbeCommands,
  'probe-server': async () => (await import('./cli/probe.ts')).registerProbeCommands,
  check: async () => (await import('./cli/link.ts')).registerLinkCommands,
  wait: async () => (await import('./cli/link.ts')).registerLinkCommands,
  node: async () => (await import('./cli/node.ts')).registerNodeCommands,
  buffer: async () => (await import('./cli/buffer.ts')).registerBufferCommands,
  route: async () => (await import('./cli/route.ts')).registerRouteCommands,
};
const CORE_COMMANDS = new Set(['run', 'version', 'status', 'config']);

/** The feature registrations `argv` needs: the invoked command's, or all of them for help and unknown input. */
async function featureRegistrations(argv: readonly string[]): Promise<Register[]> {
  const args = argv.slice(2);
  const first = args.find((a, i) => !a.startsWith('-') && !(i > 0 && /^(-c|--config)$/.test(args[i - 1] ?? '')));
  if (first !== undefined && CORE_COMMANDS.has(first)) return [];
  const loaders = first !== undefined && FEATURE_COMMANDS[first] ? [FEATURE_COMMANDS[first]] : Object.values(FEATURE_COMMANDS);
  return [...new Set(await Promise.all(loaders.map((l) => l())))];
}

/** Builds the program (exported for tests); `features` adds the feature commands. */
export function buildProgram(features: readonly Register[] = []): Command {
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
  for (const register of features) register(program);
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
  const program = buildProgram(await featureRegistrations(argv));
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

/** The runtime linkward is built and tested for (package.json "engines"). */
const REQUIRED_NODE_MAJOR = 24;

/** True when this module is the process entry point (import.meta.main is new in Node 24; older Node lacks it). */
function isEntryPoint(): boolean {
  if (typeof import.meta.main === 'boolean') return import.meta.main;
  const entry = process.argv[1] ?? '';
  return entry !== '' && import.meta.url.endsWith(entry.split('/').pop() ?? '\0');
}

if (isEntryPoint()) {
  const major = Number(process.versions.node.split('.')[0]);
  if (major !== REQUIRED_NODE_MAJOR) {
    process.stderr.write(`linkward needs Node ${REQUIRED_NODE_MAJOR} (this is Node ${process.versions.node}); use the runtime shipped with linkward (npm scripts and the release do)\n`);
    process.exit(Exit.FAILURE);
  }
  await main(process.argv);
}
