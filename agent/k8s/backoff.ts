/** Pure: capped exponential backoff with jitter for API retries. */

/** First retry after an API failure. */
export const INITIAL_BACKOFF_MS = 1_000;
/** Jitter fraction added on top (0–25 %) so a fleet recovering together does not hit the API in lockstep. */
export const BACKOFF_JITTER = 0.25;

/** Delay before retry number `failures` (1-based): initial·2^(n-1), capped at `maxMs`, plus up to 25 % jitter (`rand` in [0,1)). */
export function backoffDelayMs(failures: number, maxMs: number, rand: number, initialMs = INITIAL_BACKOFF_MS): number {
  const n = Math.max(1, failures);
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(30, n - 1));
  return Math.round(base * (1 + BACKOFF_JITTER * Math.min(1, Math.max(0, rand))));
}
