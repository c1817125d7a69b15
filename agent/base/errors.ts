/** Stable error codes (`LW_*`) and the LwError class every linkward module throws; callers branch on `code`. */

import type { LwCode } from './error-codes.ts';

export type { LwCode } from './error-codes.ts';

/**
 * Short names for the codes owned by the foundation (config, daemon, server, CLI). Other packages keep their own
 * `as const` catalogs of short names; every value is a key of the one registry, agent/base/error-codes.ts.
 */
export const ErrorCode = {
  CONFIG_INVALID: 'LW_CONFIG_INVALID',
  CONFIG_UNREADABLE: 'LW_CONFIG_UNREADABLE',
  STATE_DIR_UNWRITABLE: 'LW_STATE_DIR_UNWRITABLE',
  STATE_LOCKED: 'LW_STATE_LOCKED',
  STATE_DB_FAILED: 'LW_STATE_DB_FAILED',
  /** state.db was damaged at start: moved aside and replaced (a warning, the agent runs on). */
  STATE_DB_QUARANTINED: 'LW_STATE_DB_QUARANTINED',
  LISTEN_INSECURE: 'LW_LISTEN_INSECURE',
  LISTEN_FAILED: 'LW_LISTEN_FAILED',
  DAEMON_UNREACHABLE: 'LW_DAEMON_UNREACHABLE',
  DAEMON_BAD_RESPONSE: 'LW_DAEMON_BAD_RESPONSE',
  INTERNAL: 'LW_INTERNAL',
} as const satisfies Record<string, LwCode>;

export interface LwErrorOptions {
  cause?: unknown;
  /** Structured facts for logs and JSON output (never secrets). */
  context?: Record<string, unknown>;
}

const BRAND = Symbol.for('linkward.error');

/** The one error class: message for humans, `code` for programs, `context` for logs. */
export class LwError extends Error {
  readonly code: LwCode;
  readonly context: Record<string, unknown> | undefined;
  readonly [BRAND] = true;

  constructor(code: LwCode, message: string, options: LwErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LwError';
    this.code = code;
    this.context = options.context;
  }

  /** Works across duplicate copies of this module (bundle + source in one process). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...(this.context ? { context: this.context } : {}) };
  }
}

/** True when `e` is an LwError (optionally with the given code). */
export function isLwError(e: unknown, code?: LwCode): e is LwError {
  return e instanceof LwError && (code === undefined || e.code === code);
}

/** Best-effort code for any thrown value: LwError code, Node's `err.code`, else LW_INTERNAL. */
export function codeOf(e: unknown): string {
  if (isLwError(e)) return e.code;
  if (typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string') return (e as { code: string }).code;
  return ErrorCode.INTERNAL;
}

/** The registered code of any thrown value, for answers that must carry one (HTTP error bodies): LwError code, else LW_INTERNAL. */
export function lwCodeOf(e: unknown): LwCode {
  return isLwError(e) ? e.code : ErrorCode.INTERNAL;
}

/** Message of any thrown value, for logs. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** True for SQLite errors that mean the database file itself is damaged (not permissions or space). */
export function isSqliteCorrupt(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT_VTAB' || code === 'SQLITE_IOERR_SHORT_READ';
}
