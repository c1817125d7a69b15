/** Pure retry timing: capped exponential backoff with full jitter, and Retry-After parsing. */

/** Full jitter (AWS architecture blog): uniform in [0, min(cap, base·2^attempt)]; `random` in [0,1). */
export function fullJitterMs(attempt: number, baseMs: number, capMs: number, random: number): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random * ceiling);
}

/** Retry-After as delay in ms (delta-seconds or HTTP-date), capped; null when absent or unparseable. */
export function parseRetryAfterMs(value: string | string[] | undefined, nowMs: number, capMs: number): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return null;
  const t = v.trim();
  if (/^\d+$/.test(t)) return Math.min(capMs, Number(t) * 1000);
  const at = Date.parse(t);
  if (Number.isNaN(at)) return null;
  return Math.min(capMs, Math.max(0, at - nowMs));
}

/** Delay before the next attempt: Retry-After when the server gave one, else full jitter. */
export function nextDelayMs(attempt: number, retryAfterMs: number | null, baseMs: number, capMs: number, random: number): number {
  if (retryAfterMs !== null) return retryAfterMs;
  return fullJitterMs(attempt, baseMs, capMs, random);
}
