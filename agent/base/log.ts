/** Structured logging: pino JSON to stdout (or a human format); every module, process warning and dependency logs through it. */
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
        const lvl = String(pino.levels.labels[Number(level)] ?? level)
          .toUpperCase()
          .padEnd(5);
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
  return pino({ level: opts.level, base: { pid: process.pid }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, stream as NodeJS.WritableStream);
}

/** A logger that discards everything (unit tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * Sends Node's process warnings (MaxListenersExceeded, deprecations, experimental features) through the logger
 * instead of Node's plain `(node:PID) Warning: ...` text on stderr, which breaks `jq` over the journal.
 */
export function routeProcessWarnings(log: Logger): void {
  process.removeAllListeners('warning');
  process.on('warning', (w: Error & { code?: string }) => log.warn({ source: 'node', warning: w.name, ...(w.code ? { code: w.code } : {}) }, w.message));
}

/** The logger shape node-cron accepts (its own default prints coloured text with console.*). */
export interface DependencyLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string | Error, err?: Error): void;
  debug(message: string | Error, err?: Error): void;
}

/** Adapts the logger for a dependency that takes one (`source` names it in every record). */
export function dependencyLogger(log: Logger, source: string): DependencyLogger {
  const child = log.child({ source });
  const text = (m: string | Error): string => (m instanceof Error ? m.message : m);
  return {
    info: (m) => child.info(m),
    warn: (m) => child.warn(m),
    error: (m, err) => child.error({ err: err ?? (m instanceof Error ? m : undefined) }, text(m)),
    debug: (m, err) => child.debug({ err: err ?? (m instanceof Error ? m : undefined) }, text(m)),
  };
}
