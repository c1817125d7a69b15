/** CLI entry for link tests: the real `linkward` program plus the link commands (until agent/cli.ts registers them itself). */
import { CommanderError } from 'commander';
import { buildProgram } from '../../agent/cli.ts';
import { registerLinkCommands } from '../../agent/cli/link.ts';
import { isLwError, messageOf } from '../../agent/errors.ts';
import { Exit } from '../../agent/exit-codes.ts';

const program = buildProgram();
if (!program.commands.some((c) => c.name() === 'check')) registerLinkCommands(program);
try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exitCode = e.exitCode === 0 ? 0 : Exit.DOWN;
  else {
    process.stderr.write(`linkward: ${messageOf(e)}\n`);
    process.exitCode = isLwError(e, 'LW_CONFIG_INVALID') ? Exit.CONFIG_INVALID : Exit.FAILURE;
  }
}
