/** Process exit codes scripts can rely on (CLI and daemon), and the one mapping from errors and daemon answers to them. */
import { ERROR_CODES, type ErrorCodeInfo } from '../base/error-codes.ts';
import { isLwError } from '../base/errors.ts';

export const Exit = {
  /** Success; for `status`/`check`: link healthy. */
  OK: 0,
  /** `status`/`check`: degraded. Daemon: fatal runtime error (systemd restarts it). */
  DEGRADED: 1,
  /** `status`/`check`: down or unknown. `config validate`: invalid config. Usage errors. */
  DOWN: 2,
  /** The configuration is invalid (same value as DOWN, by the contract of `config validate`). */
  CONFIG_INVALID: 2,
  /** `status`/`check`/`wait`: the daemon could not be reached. */
  UNREACHABLE: 3,
  /** Generic failure of a one-shot command (not a link verdict). */
  FAILURE: 1,
} as const;

/** The exit code of each `exit` class of the registry (CONFIG_INVALID and DOWN are the same 2: bad input). */
const EXIT_OF: Record<NonNullable<ErrorCodeInfo['exit']>, number> = { input: Exit.CONFIG_INVALID, unreachable: Exit.UNREACHABLE };

/**
 * Exit code of a command that stopped on `e`, from the `exit` of its code in the registry: the input is wrong
 * (config, usage) → 2, fix it; the daemon could not be reached or answered nonsense → 3, start it; anything else → 1.
 */
export function exitForError(e: unknown): number {
  if (!isLwError(e)) return Exit.FAILURE;
  const info: ErrorCodeInfo = ERROR_CODES[e.code];
  return info.exit === undefined ? Exit.FAILURE : EXIT_OF[info.exit];
}

/**
 * Exit code of a daemon answer ≥ 400: the request as given cannot be served (wrong or missing token, unknown uplink,
 * bad argument, feature off: 4xx) → 2, fix the input; the daemon failed (5xx) → 1.
 */
export function exitForStatus(status: number): number {
  return status >= 400 && status < 500 ? Exit.DOWN : Exit.FAILURE;
}
