/** Whether a capped test's low figure is the link's rate, not the test's: it ran long enough, or it filled the path (pure). */
import type { ThroughputResult } from './throughput-result.ts';
import type { Estimate } from './estimator.ts';
import { isRamping } from './probe-bytes.ts';
import { RTO_MIN_MS } from './stalls.ts';
import { FILL_RTTS } from './throughput-options.ts';

/**
 * A capped test this many round trips long has filled the path: TCP's window has had time to grow past the link's
 * rate and recover from slow start's overshoot. The delay-line lab (tbf, 4 streams): tests of ~40 round trips (50 ms
 * RTT, 2 s) read within 10 % of iperf3; of 13 (150 ms) half of it; of 3–10 (300–600 ms) a tenth or less.
 */
export const AGREE_MIN_RTTS = 25;
/**
 * ...or the load built a queue at the bottleneck: the loaded pings' RTT rose this much above the idle pings' (ms),
 * and at least QUEUE_EVIDENCE_SHARE of the idle RTT (satellite paths jitter by tens of ms). A test limited by its own
 * window leaves the RTT where it was (the lab at 600 ms: idle 605, loaded 603, while reading 0.04 of the link).
 */
export const QUEUE_EVIDENCE_MS = 10;
export const QUEUE_EVIDENCE_SHARE = 0.1;
/**
 * ...or the load made most loaded pings go unanswered (a bottleneck with a small buffer drops rather than queues),
 * judged only when the idle pings were answered and at least LOST_EVIDENCE_MIN_PINGS were sent under the load: pings
 * a firewall or a wrong path drops are lost with or without the load (a review: such an uplink was vouched slow).
 */
export const LOST_EVIDENCE_SHARE = 0.5;
export const LOST_EVIDENCE_MIN_PINGS = 5;

/** True when a loaded RTT of `loadedMs` over an idle one of `idleMs` is a queue at the bottleneck. */
export function queueBuilt(idleMs: number | undefined, loadedMs: number | undefined): boolean {
  if (idleMs === undefined || loadedMs === undefined) return false;
  return loadedMs - idleMs >= Math.max(QUEUE_EVIDENCE_MS, QUEUE_EVIDENCE_SHARE * idleMs);
}

/** True when the load raised the RTT (a queue) or lost most pings the idle path answered: the path was full while the test ran. */
export function filledPath(r: Pick<ThroughputResult, 'latency'>): boolean {
  const l = r.latency;
  if (!l || l.idleMs === undefined) return false;
  const sent = l.loadedSamples + l.loadedLost;
  if (sent >= LOST_EVIDENCE_MIN_PINGS && l.loadedLost / sent >= LOST_EVIDENCE_SHARE) return true;
  return queueBuilt(l.idleMs, l.loadedMs);
}

/**
 * Whether a capped reading below the degraded level can count, with a second one, as the link's rate (agreedLow):
 * not ramping at its end, and either long enough in round trips of the path (`rttMs`: the test's own idle pings,
 * else the uplink's light probes; unknown: judged by the queue alone) or with a full path. Without it, a 40 Mbit/s
 * link at 300 ms RTT read 0.80 twice and would have gone down; with an AQM that isolates flows (fq_codel) a slow
 * long-RTT link shows no queue and stays unjudged: the safe side.
 */
export function lowCanCount(r: Pick<ThroughputResult, 'latency' | 'durationMs' | 'ramping'>, rttMs: number | undefined): boolean {
  if (r.ramping === true) return false;
  const rtt = r.latency?.idleMs ?? rttMs;
  if (rtt !== undefined && r.durationMs >= AGREE_MIN_RTTS * rtt) return true;
  return filledPath(r);
}

/** What the allowance gate of a running test reads. */
export interface AllowanceGate {
  /** Time since the test began (ms). */
  tMs: number;
  /** The path's round trip (ms; 0: unknown). */
  rttMs: number;
  timeCapMs: number;
  /** The rate the line-rate allowance judges by now (Mbit/s; 0: none yet). */
  rateMbps: number;
  /** The level the figure will be held against (the degraded enter value; 0: none). */
  judgeAtMbps: number;
  idleMs: number | undefined;
  loadedMs: number | undefined;
}

/**
 * True while the line-rate allowance may not end a running test: before FILL_RTTS round trips, unless the loaded
 * pings already show a queue (the path is full); and, for a test reading below the level it is judged against, before
 * it lasts long enough for a low reading to count (AGREE_MIN_RTTS round trips) where that fits in the time cap
 * (stopped at 15 round trips, a 3.7 Mbit/s upload at 102 ms read 2.6 and could not count; on a longer path only a
 * queue can make a low reading count, and running on would only spend bytes).
 */
export function allowanceHeld(g: AllowanceGate): boolean {
  const filling = g.tMs < FILL_RTTS * g.rttMs && !queueBuilt(g.idleMs, g.loadedMs);
  const countMs = AGREE_MIN_RTTS * g.rttMs;
  const tooShortToCount = g.rateMbps < g.judgeAtMbps && g.tMs < countMs && countMs <= g.timeCapMs;
  return filling || tooShortToCount;
}

/**
 * A finished test's figure against its path's round trip: one from fewer than FILL_RTTS round trips is only "at
 * least", whatever its estimate says; `ramping` when a capped figure was still rising at the end or too short to fill
 * the path, and had not gone quiet (its last byte within a round trip and the minimum RTO of the end: a flow killed
 * in slow start is silent, not ramping).
 */
export function pathFigureOf<F extends { mbps?: number; lowerBound: boolean; stalled: boolean }>(
  judged: F,
  e: Pick<Estimate, 'mbps' | 'recentMbps'> | undefined,
  t: { durationMs: number; rttMs: number; lastMoveMs: number },
): { figure: F; ramping: boolean } {
  const short = t.durationMs < FILL_RTTS * t.rttMs;
  const figure = short && judged.mbps !== undefined ? { ...judged, lowerBound: true } : judged;
  const quietTail = t.durationMs - t.lastMoveMs > t.rttMs + RTO_MIN_MS;
  const ramping = e !== undefined && !figure.stalled && figure.lowerBound && !quietTail && (short || isRamping(e.mbps, e.recentMbps));
  return { figure, ramping };
}
