/** The lean CLI for `check` and `wait`: what exec readiness probes and init containers run, without the agent's modules. */
import { registerLinkCommands } from './cli/link.ts';
import { rootCommand, runProgram } from './cli/run-program.ts';

/** Runs `linkward check|wait ...`; loads commander and the link check only (config only when no --address is given). */
export async function main(argv: string[]): Promise<void> {
  const program = rootCommand();
  registerLinkCommands(program);
  await runProgram(program, argv);
}
