/** Structured logging: pino JSON to stdout (or a human format); every module logs through a child logger. */
import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
export type LogFormat = 'json' | 'pretty';

/** Field names that are redacted wherever they appear (tokens and sink headers must never reach logs). */
const REDACT_PATHS = ['token', '*.token', 'headers.authorization', '*.headers.authorization', 'authorization', '*.authorization'];

/** Writes one line per record; `pretty` is a dependency-free human format for terminals. */
function prettyStream(dest: NodeJS.WritableStream): { write(line: string): void } {
  return {
    write(line: string): void {
      try {
        const rec = JSON.parse(line) as Record<string, unknown>;
        const { time, level, msg, component, pid: _pid, hostname: _h, ...rest } = rec;
        const ts = new Date(Number(time)).toISOString().slice(11, 23);
        const lvl = String(pino.levels.labels[Number(level)] ?? level).toUpperCase().padEnd(5);
        const extra = Object.keys(rest).length > 0 ? ' ' + JSON.stringify(rest) : '';
        dest.write(`${ts} ${lvl} ${component ? `[${String(component)}] ` : ''}${String(msg ?? '')}${extra}\n`);
      } catch {
        dest.write(line);
      }
    },
  };
}

/** Creates the process logger. `dest` defaults to stdout (tests pass their own stream). */
export function createLogger(opts: { level: LogLevel; format: LogFormat; dest?: NodeJS.WritableStream }): Logger {
  const dest = opts.dest ?? process.stdout;
  const stream = opts.format === 'pretty' ? prettyStream(dest) : dest;
  return pino(
    { level: opts.level, base: { pid: process.pid }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    stream as NodeJS.WritableStream,
  );
}

/** A logger that discards everything (unit tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
