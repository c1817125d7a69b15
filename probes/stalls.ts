/** TCP stall detection in a throughput series (pure): streams that stop making progress, and whether that held the figure down. */
import { median } from './stats.ts';
import { bytesAt, toMbps, type ByteSample } from './estimator.ts';

/**
 * Shortest gap in a stream's progress that can be a stall: Linux's minimum retransmission timeout is 200 ms, so a
 * stream waiting for an RTO goes silent for at least that plus a round trip; ordinary delivery gaps are far shorter.
 */
export const STALL_MIN_MS = 250;
/**
 * ...and at least this many times the stream's median gap between arrivals (slow links deliver sparsely: one packet
 * per ≈ 46 ms per stream at 1 Mbit/s over 4 streams, where an RTO stall lasts ≈ 250 ms).
 */
export const STALL_GAP_FACTOR = 4;
/**
 * Linux's minimum retransmission timeout (ms). An RTO waits at least a round trip plus this, while a stream whose
 * window is full waits up to a round trip for its ACKs between bursts: on a 276 ms path those ordinary gaps were
 * taken for stalls, and a 2.9 Mbit/s link was never judged slow (the delay-line lab).
 */
export const RTO_MIN_MS = 200;
/**
 * After a stall ends, data held back (out of order at the receiver, or unread while the client was starved of CPU)
 * arrives at once; a stall is judged with this much time after it, so a mere reading delay does not count.
 */
export const STALL_CATCHUP_MS = 50;
/** A stall affected the figure when the link carried less than this share of the rate seen outside stalls. */
export const STALL_RATE_SHARE = 0.75;

/** What one stream did: when its data arrived, and when it had a transfer outstanding ([start, end] in ms). */
export interface StreamActivity {
  progress: number[];
  busy: [number, number][];
}

export interface StallReport {
  /** A stall held the aggregate rate below STALL_RATE_SHARE of the rest of the window. */
  stalled: boolean;
  /** Merged intervals (ms) in which at least one busy stream made no progress. */
  intervals: [number, number][];
  /** Length of the intervals that held the rate down (catch-up time included). */
  affectedMs: number;
  /** Rate (Mbit/s) over the window with the affecting intervals left out; undefined when nothing is left. */
  mbpsOutside?: number;
}

/** Silent stretches of one stream inside [t0, t1]: gaps between arrivals while it had a transfer outstanding. */
export function streamGaps(s: StreamActivity, t0: number, t1: number, rttMs = 0): [number, number][] {
  const times = [...s.progress].sort((a, b) => a - b);
  const steps = times.slice(1).map((t, i) => t - (times[i] as number));
  const limit = Math.max(STALL_MIN_MS, rttMs + RTO_MIN_MS, STALL_GAP_FACTOR * (median(steps) ?? 0));
  const gaps: [number, number][] = [];
  for (const [b0, b1] of s.busy) {
    const inside = times.filter((t) => t >= b0 && t <= b1);
    // the wait for the first byte is a round trip behind queued data, not a stall: gaps start at the first arrival
    for (let i = 1; i <= inside.length; i++) {
      const a = inside[i - 1] as number;
      const b = i < inside.length ? (inside[i] as number) : b1;
      const lo = Math.max(a, t0);
      const hi = Math.min(b, t1);
      if (b - a >= limit && hi > lo) gaps.push([lo, hi]);
    }
  }
  return gaps;
}

/** Union of intervals, sorted. */
export function mergeIntervals(xs: readonly [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  for (const [a, b] of [...xs].sort((p, q) => p[0] - q[0])) {
    const last = out[out.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/**
 * Finds stalls in the window [t0, t1] of the aggregate cumulative series `total`: intervals where a stream with a
 * transfer outstanding made no progress. One stalled stream among several usually costs nothing (the others take its
 * share of the link); the stall counts when the aggregate, judged up to STALL_CATCHUP_MS after the interval, carried
 * less than STALL_RATE_SHARE of the rate outside the intervals.
 */
export function findStalls(streams: readonly StreamActivity[], total: readonly ByteSample[], t0: number, t1: number, rttMs = 0): StallReport {
  const intervals = mergeIntervals(streams.flatMap((s) => streamGaps(s, t0, t1, rttMs)));
  const judged = mergeIntervals(intervals.map(([a, b]) => [a, Math.min(t1, b + STALL_CATCHUP_MS)] as [number, number]));
  const windowBytes = bytesAt(total, t1) - bytesAt(total, t0);
  const inBytes = judged.reduce((s, [a, b]) => s + bytesAt(total, b) - bytesAt(total, a), 0);
  const inMs = judged.reduce((s, [a, b]) => s + b - a, 0);
  const outMs = t1 - t0 - inMs;
  if (judged.length === 0 || outMs <= 0) return { stalled: judged.length > 0 && windowBytes <= 0, intervals, affectedMs: 0 };
  const outRate = (windowBytes - inBytes) / outMs;
  const affected = judged.filter(([a, b]) => bytesAt(total, b) - bytesAt(total, a) < STALL_RATE_SHARE * outRate * (b - a));
  const affectedMs = affected.reduce((s, [a, b]) => s + b - a, 0);
  if (affected.length === 0) return { stalled: false, intervals, affectedMs: 0 };
  const affBytes = affected.reduce((s, [a, b]) => s + bytesAt(total, b) - bytesAt(total, a), 0);
  const leftMs = t1 - t0 - affectedMs;
  return { stalled: true, intervals, affectedMs, ...(leftMs > 0 ? { mbpsOutside: toMbps(windowBytes - affBytes, leftMs) } : {}) };
}
