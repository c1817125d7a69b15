/** Test entry point for the probes CLI commands: `node probes-cli.ts probe ...` on the same root program (global -c/--config) as agent/cli.ts. */
import { registerProbeCommands } from '../../agent/cli/probe.ts';
import { rootCommand, runProgram } from '../../agent/cli/run-program.ts';

const program = rootCommand();
registerProbeCommands(program);
await runProgram(program, process.argv);
