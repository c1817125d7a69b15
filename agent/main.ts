/** Process entry of `linkward`: checks the runtime, then loads the lean link-check CLI or the full CLI. */
import { firstCommand } from './cli/argv.ts';
import { Exit } from './cli/exit-codes.ts';

/** The runtime linkward is built and tested for (package.json "engines"). */
const REQUIRED_NODE_MAJOR = 24;

/**
 * Commands served by agent/cli-link.ts. They run as exec probes every few seconds: the full CLI evaluates the whole
 * agent (config schema, logger, SQLite, every feature) on each run; the lean one only what a link check needs.
 */
const LEAN_COMMANDS = new Set(['check', 'wait']);

/** True when this module is the process entry point (import.meta.main is new in Node 24; older Node lacks it). */
function isEntryPoint(): boolean {
  if (typeof import.meta.main === 'boolean') return import.meta.main;
  const entry = process.argv[1] ?? '';
  return entry !== '' && import.meta.url.endsWith(entry.split('/').pop() ?? '\0');
}

/** Dispatches argv to the CLI that serves its command. */
export async function run(argv: string[]): Promise<void> {
  const major = Number(process.versions.node.split('.')[0]);
  if (major !== REQUIRED_NODE_MAJOR) {
    process.stderr.write(
      `linkward needs Node ${REQUIRED_NODE_MAJOR} (this is Node ${process.versions.node}); use the runtime shipped with linkward (npm scripts and the release do)\n`,
    );
    process.exitCode = Exit.FAILURE;
    return;
  }
  const cli = LEAN_COMMANDS.has(firstCommand(argv) ?? '') ? await import('./cli-link.ts') : await import('./cli.ts');
  await cli.main(argv);
}

if (isEntryPoint()) await run(process.argv);
