/** Process exit codes scripts can rely on (CLI and daemon), and the one mapping from errors and daemon answers to them. */
import { ErrorCode, isLwError } from '../base/errors.ts';

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

/**
 * Exit code of a command that stopped on `e`: the input is wrong (config, address, usage) → 2, fix it; the daemon
 * could not be reached or answered nonsense → 3, start it; anything else → 1.
 */
export function exitForError(e: unknown): number {
  if (isLwError(e, ErrorCode.CONFIG_INVALID) || isLwError(e, ErrorCode.CONFIG_UNREADABLE)) return Exit.CONFIG_INVALID;
  if (isLwError(e, ErrorCode.DAEMON_UNREACHABLE) || isLwError(e, ErrorCode.DAEMON_BAD_RESPONSE)) return Exit.UNREACHABLE;
  return Exit.FAILURE;
}

/**
 * Exit code of a daemon answer ≥ 400: the request as given cannot be served (wrong or missing token, unknown uplink,
 * bad argument, feature off: 4xx) → 2, fix the input; the daemon failed (5xx) → 1.
 */
export function exitForStatus(status: number): number {
  return status >= 400 && status < 500 ? Exit.DOWN : Exit.FAILURE;
}
