/** Runs a commander program and maps what it throws to linkward's exit codes (shared by the full and the lean CLI). */
import { Command, CommanderError } from 'commander';
import { messageOf } from '../base/errors.ts';
import { Exit, exitForError } from './exit-codes.ts';
import { VERSION } from '../base/version.ts';

/** Parses `argv` and runs the chosen action; sets process.exitCode on usage and runtime errors. */
export async function runProgram(program: Command, argv: readonly string[]): Promise<void> {
  try {
    await program.parseAsync([...argv]);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? 0 : Exit.DOWN;
      return;
    }
    process.stderr.write(`linkward: ${messageOf(e)}\n`);
    process.exitCode = exitForError(e);
  }
}

/** The root command both entries build on: name, the global -c/--config option, errors thrown instead of exiting. */
export function rootCommand(): Command {
  return new Command('linkward')
    .description('Keeps k3s edge nodes working through bad networks')
    .version(`linkward ${VERSION} (node ${process.versions.node})`, '-V, --version', 'print the version (same as `linkward version`)')
    .option('-c, --config <file>', 'config file (default: $LINKWARD_CONFIG, else /etc/linkward/config.yaml if present, else built-in defaults)')
    .showHelpAfterError('(run "linkward --help" for usage)')
    .exitOverride();
}
