/** Test entry point for the probes CLI commands (until agent/cli.ts wires them): `node probes-cli.ts probe ...`. */
import { Command } from 'commander';
import { registerProbeCommands } from '../../agent/cli/probe.ts';

const program = new Command('linkward');
registerProbeCommands(program);
await program.parseAsync(process.argv);
