/** Process exit codes scripts can rely on (CLI and daemon). */
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
