/** Entry point that runs only the buffer CLI commands (until the lead wires them into agent/cli.ts). */
import { Command } from 'commander';
import { registerBufferCommands } from '../../agent/cli/buffer.ts';

const program = new Command('linkward').option('-c, --config <path>', 'config file');
registerBufferCommands(program);
await program.parseAsync(process.argv);
