/** The `linkward` command line: daemon, status, config, and the commands each feature adds. */
import type { Command } from 'commander';
import { firstCommand } from './cli/argv.ts';
import { registerConfigCommands } from './cli/config.ts';
import { rootCommand, runProgram } from './cli/run-program.ts';
import { resolveConfigPath } from './config/load.ts';
import { registerStatusCommand } from './cli/status.ts';
import { runDaemon } from './daemon.ts';
import { codeOf, messageOf } from './base/errors.ts';
import { Exit } from './cli/exit-codes.ts';
import { VERSION } from './base/version.ts';

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
  test: async () => (await import('./cli/speedtest.ts')).registerSpeedtestCommand,
  init: async () => (await import('./cli/init.ts')).registerInitCommand,
  history: async () => (await import('./cli/history.ts')).registerHistoryCommand,
};
const CORE_COMMANDS = new Set(['run', 'version', 'status', 'config']);

/** The feature registrations `argv` needs: the invoked command's, or all of them for help and unknown input. */
async function featureRegistrations(argv: readonly string[]): Promise<Register[]> {
  const first = firstCommand(argv);
  if (first !== undefined && CORE_COMMANDS.has(first)) return [];
  const loaders = first !== undefined && FEATURE_COMMANDS[first] ? [FEATURE_COMMANDS[first]] : Object.values(FEATURE_COMMANDS);
  return [...new Set(await Promise.all(loaders.map((l) => l())))];
}

/** Builds the program (exported for tests); `features` adds the feature commands. */
export function buildProgram(features: readonly Register[] = []): Command {
  const program = rootCommand();

  program
    .command('run')
    .description('Run the agent (foreground; under systemd Type=notify)')
    .option('--log-format <format>', 'json or pretty (overrides log.format)')
    .option('--log-level <level>', 'overrides log.level')
    .option('--listen <host:port>', 'overrides server.listen')
    .option('--state-dir <dir>', 'overrides state.dir')
    .action(async (o: { logFormat?: 'json' | 'pretty'; logLevel?: string; listen?: string; stateDir?: string }, cmd: Command) => {
      installFatalHandlers(o.logFormat);
      const code = await runDaemon({ configPath: resolveRunConfig(cmd), ...o });
      // Exit now rather than when the last handle closes: a half-open connection to a dead peer (a SYN to an uplink
      // that is down, a keep-alive socket) kept the process alive for minutes after "stopped" (issue 13). Everything
      // that matters is closed or committed by now; log lines are written synchronously.
      process.exit(code);
    });

  program
    .command('version')
    .description('Print the version')
    .option('--json', 'as JSON')
    .action((o: { json?: boolean }) => {
      process.stdout.write(
        o.json ? JSON.stringify({ version: VERSION, node: process.versions.node }) + '\n' : `linkward ${VERSION} (node ${process.versions.node})\n`,
      );
    });

  registerStatusCommand(program);
  registerConfigCommands(program);
  for (const register of features) register(program);
  return program;
}

function resolveRunConfig(cmd: Command): string | undefined {
  return resolveConfigPath(cmd.optsWithGlobals<{ config?: string }>().config);
}

/** A fatal error is logged (a pino-shaped JSON line on the log stream, or text with --log-format pretty) and exits 1 so systemd restarts the agent. */
function installFatalHandlers(format: 'json' | 'pretty' | undefined): void {
  const die = (kind: string) => (e: unknown) => {
    const msg = `${kind}: ${messageOf(e)}`;
    const stack = e instanceof Error ? e.stack : undefined;
    if (format === 'pretty') process.stderr.write(`FATAL ${msg} (${codeOf(e)})\n`);
    else process.stdout.write(JSON.stringify({ level: 60, time: Date.now(), pid: process.pid, code: codeOf(e), ...(stack ? { stack } : {}), msg }) + '\n');
    process.exit(Exit.FAILURE);
  };
  process.on('uncaughtException', die('uncaught exception'));
  process.on('unhandledRejection', die('unhandled rejection'));
}

/** Full CLI: parses argv and maps errors to exit codes (the process entry is agent/main.ts). */
export async function main(argv: string[]): Promise<void> {
  await runProgram(buildProgram(await featureRegistrations(argv)), argv);
}

// Run directly (`node agent/cli.ts ...`, as before agent/main.ts existed): run the full CLI instead of exiting 0
// without doing anything, which `check` callers would read as "healthy". Matched on argv, not import.meta.main,
// which is true for every module inlined into the bundle.
if (/(^|\/)agent\/cli\.ts$/.test(process.argv[1] ?? '')) await main(process.argv);
