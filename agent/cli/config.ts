/** `linkward config validate [FILE]` and `linkward config defaults`. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseYaml, resolveConfigPath, validateConfig } from '../config/load.ts';
import { renderDefaultsYaml } from '../config/defaults-yaml.ts';
import { Exit } from './exit-codes.ts';

/** Validates one file; prints every problem as `path: message`; returns the exit code. */
export function validateFile(path: string | undefined, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): number {
  if (!path) {
    out.write('no config file given or found: the embedded defaults apply (valid)\n');
    return Exit.OK;
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    err.write(`${path}: cannot read: ${(e as Error).message}\n`);
    return Exit.CONFIG_INVALID;
  }
  const parsed = parseYaml(text);
  const problems =
    parsed.problems.length > 0
      ? parsed.problems
      : (() => {
          const v = validateConfig(parsed.value);
          return v.ok ? [] : v.problems;
        })();
  if (problems.length === 0) {
    out.write(`${path}: valid\n`);
    return Exit.OK;
  }
  for (const p of problems) err.write(`${p.path}: ${p.message}\n`);
  err.write(`${path}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n`);
  return Exit.CONFIG_INVALID;
}

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('Check and print configuration');
  config
    .command('validate')
    .argument('[file]', 'config file (default: --config, $LINKWARD_CONFIG, /etc/linkward/config.yaml)')
    .description('Validate a config file; prints every problem as "path: message"; exit 2 when invalid')
    .action((file: string | undefined, _o: unknown, cmd: Command) => {
      const globals = cmd.optsWithGlobals<{ config?: string }>();
      process.exitCode = validateFile(file ?? resolveConfigPath(globals.config));
    });
  config
    .command('defaults')
    .description('Print the full default configuration as commented YAML')
    .action(() => {
      process.stdout.write(renderDefaultsYaml());
    });
}
