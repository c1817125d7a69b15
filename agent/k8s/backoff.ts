/** Pure: capped exponential backoff with full jitter for API retries (one schedule for every request path). */

/** Ceiling of the first retry after an API failure. */
export const INITIAL_BACKOFF_MS = 1_000;
/**
 * Shortest wait ever: full jitter may draw ~0, and a retry storm of 0 ms waits is what backoff exists to prevent.
 * 200 ms is below the first ceiling (1 s) so the exponential schedule still shapes the waits.
 */
export const MIN_BACKOFF_MS = 200;

/**
 * Delay before retry number `failures` (1-based), "full jitter" (AWS architecture blog, 2015): uniform in
 * [0, min(maxMs, initial·2^(n-1))) drawn from `rand` in [0,1), never below MIN_BACKOFF_MS (nor above maxMs).
 * Full jitter spreads a fleet that failed together over the whole window, so it does not retry in lockstep;
 * the mean wait once capped is maxMs/2.
 */
export function backoffDelayMs(failures: number, maxMs: number, rand: number, initialMs = INITIAL_BACKOFF_MS): number {
  const n = Math.max(1, failures);
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(30, n - 1));
  const r = Math.min(1, Math.max(0, rand));
  return Math.min(maxMs, Math.max(MIN_BACKOFF_MS, Math.round(ceiling * r)));
}

/** Ceiling of the schedule after `failures` failures (what a retry waits at most; for messages and config checks). */
export function backoffCeilingMs(failures: number, maxMs: number, initialMs = INITIAL_BACKOFF_MS): number {
  return Math.min(maxMs, initialMs * 2 ** Math.min(30, Math.max(1, failures) - 1));
}
