/** Pure token-bucket pacing of upstream bytes to a fraction of the measured upload bandwidth, within every second. */

/**
 * Bucket depth, in seconds of rate, and the largest batch a paced flush seals. Over any window of T seconds a token
 * bucket lets out at most depth + rate × T, so a 1-second window carries at most 1.05 × the rate: within the 10 %
 * the flush may exceed its share, with room left for TCP/IP framing. (A depth of 1 s let one 710 KB batch leave at
 * line rate, 3 s at 100 % of a 1.93 Mbit/s link.)
 */
export const PACE_SLICE_SECONDS = 0.05;
/** Bytes a request costs on the link beyond its body (request line, headers incl. Idempotency-Key, the response). */
export const REQUEST_OVERHEAD_BYTES = 600;
/** TCP/IP + Ethernet framing per full segment: 66 B per 1448 B of payload, about 4.6 %. */
export const FRAMING_FACTOR = 1.046;
/** Smallest batch body a paced flush seals (a record larger than this still goes alone, whole). */
const MIN_PACED_BATCH_BYTES = 1024;

export interface PaceState {
  /** Bytes that may be sent now. */
  tokens: number;
  /** When tokens were last refilled (ms). */
  atMs: number;
}

/**
 * One token bucket for the whole agent: every sink's forwarder draws from it, so `flush.paceFraction` bounds what the
 * flush puts on the uplink, not what each sink does (two sinks with a backlog each took twice the fraction).
 */
export interface PaceBucket {
  state: PaceState;
  /** The sink that sent last, and the sinks refused tokens (until when they count as waiting, monotonic ms). */
  last: string | null;
  waiting: Map<string, number>;
}

export function createPaceBucket(): PaceBucket {
  return { state: { tokens: 0, atMs: 0 }, last: null, waiting: new Map() };
}

/**
 * A sink's turn at the shared bucket: 0 when `bytes` may go now (taken), else how long to wait. The sink that sent last
 * yields one slice to another that is waiting, so sinks with a backlog alternate instead of the first to wake taking
 * every refill. A waiting entry lapses one slice after the wait it was given (that sink stopped asking).
 */
export function paceTurn(b: PaceBucket, sink: string, bytes: number, rateBps: number | null, nowMs: number): number {
  const p = paceDelay(b.state, bytes, rateBps, nowMs);
  const slice = Math.ceil(PACE_SLICE_SECONDS * 1000);
  let othersWait = false;
  for (const [s, until] of b.waiting) {
    if (until < nowMs) b.waiting.delete(s);
    else if (s !== sink) othersWait = true;
  }
  if (p.waitMs === 0 && (rateBps === null || !othersWait || b.last !== sink)) {
    b.state = p.state;
    b.last = sink;
    b.waiting.delete(sink);
    return 0;
  }
  // refused, or yielding: the refilled tokens stay in the bucket for the sink whose turn it is
  const wait = p.waitMs > 0 ? p.waitMs : slice;
  b.state = p.waitMs > 0 ? p.state : { tokens: p.state.tokens + bytes, atMs: nowMs };
  b.waiting.set(sink, nowMs + wait + slice);
  return wait;
}

/** Bytes per second allowed: fraction × measured upload (Mbit/s); null = not measured → unpaced. */
export function paceRateBytesPerSec(uploadMbps: number | undefined, fraction: number): number | null {
  if (uploadMbps === undefined || !(uploadMbps > 0)) return null;
  return (uploadMbps * 1_000_000 * fraction) / 8;
}

/** Bytes one request of `bodyBytes` puts on the link (what the bucket is charged). */
export function wireBytes(bodyBytes: number): number {
  return Math.ceil((bodyBytes + REQUEST_OVERHEAD_BYTES) * FRAMING_FACTOR);
}

/** Largest batch body to seal at this rate (Infinity when unpaced), so one request fits in one slice of the bucket. */
export function pacedBatchBytes(rateBps: number | null): number {
  if (rateBps === null) return Number.POSITIVE_INFINITY;
  return Math.max(MIN_PACED_BATCH_BYTES, Math.floor((rateBps * PACE_SLICE_SECONDS) / FRAMING_FACTOR) - REQUEST_OVERHEAD_BYTES);
}

/** How long to wait before `bytes` may be sent (0 = now), with the refilled state. Rate null = no wait. */
export function paceDelay(state: PaceState, bytes: number, rateBps: number | null, nowMs: number): { waitMs: number; state: PaceState } {
  if (rateBps === null) return { waitMs: 0, state: { tokens: 0, atMs: nowMs } };
  const cap = Math.max(rateBps * PACE_SLICE_SECONDS, bytes);
  const tokens = Math.min(cap, state.tokens + ((nowMs - state.atMs) / 1000) * rateBps);
  if (tokens >= bytes) return { waitMs: 0, state: { tokens: tokens - bytes, atMs: nowMs } };
  return { waitMs: Math.ceil(((bytes - tokens) / rateBps) * 1000), state: { tokens, atMs: nowMs } };
}
