/** Pure token-bucket pacing of upstream bytes to a fraction of the measured upload bandwidth. */

/** Bucket depth in seconds of rate: allows a short burst after idle without flooding the link. */
export const PACE_BURST_SECONDS = 1;

export interface PaceState {
  /** Bytes that may be sent now. */
  tokens: number;
  /** When tokens were last refilled (ms). */
  atMs: number;
}

/** Bytes per second allowed: fraction × measured upload (Mbit/s); null = not measured → unpaced. */
export function paceRateBytesPerSec(uploadMbps: number | undefined, fraction: number): number | null {
  if (uploadMbps === undefined || !(uploadMbps > 0)) return null;
  return (uploadMbps * 1_000_000 * fraction) / 8;
}

/** How long to wait before `bytes` may be sent (0 = now), with the refilled state. Rate null = no wait. */
export function paceDelay(state: PaceState, bytes: number, rateBps: number | null, nowMs: number): { waitMs: number; state: PaceState } {
  if (rateBps === null) return { waitMs: 0, state: { tokens: 0, atMs: nowMs } };
  const cap = Math.max(rateBps * PACE_BURST_SECONDS, bytes);
  const tokens = Math.min(cap, state.tokens + ((nowMs - state.atMs) / 1000) * rateBps);
  if (tokens >= bytes) return { waitMs: 0, state: { tokens: tokens - bytes, atMs: nowMs } };
  return { waitMs: Math.ceil(((bytes - tokens) / rateBps) * 1000), state: { tokens, atMs: nowMs } };
}
