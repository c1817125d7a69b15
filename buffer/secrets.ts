/** Resolves sink headers: `${ENV}` references and header files. Values are secrets: never logged, never in errors. */
import { readFileSync } from 'node:fs';
import { LwError } from '../agent/base/errors.ts';
import type { SinkConfig } from '../agent/config/buffer.ts';
import { BufferError } from './errors.ts';

/** Returns the request headers of a sink with every secret resolved (lower-case names). */
export function resolveSinkHeaders(
  sink: Pick<SinkConfig, 'name' | 'headers' | 'headerFiles'>,
  env: NodeJS.ProcessEnv = process.env,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(sink.headers)) {
    out[name.toLowerCase()] = raw.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, v: string) => {
      const value = env[v];
      if (value === undefined)
        throw new LwError(
          BufferError.SECRET_MISSING,
          `sink "${sink.name}" header ${name} uses \${${v}}, which is not set; export it in the service environment`,
          { context: { sink: sink.name, header: name, env: v } },
        );
      return value;
    });
  }
  for (const [name, path] of Object.entries(sink.headerFiles)) {
    try {
      out[name.toLowerCase()] = readFile(path).trim();
    } catch (cause) {
      throw new LwError(
        BufferError.SECRET_MISSING,
        `sink "${sink.name}" header ${name}: cannot read ${path}; create it (mode 0600) or fix sinks[].headerFiles`,
        { cause, context: { sink: sink.name, header: name, path } },
      );
    }
  }
  return out;
}
