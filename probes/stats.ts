/** Pure estimators for light probes: percentiles, median, jitter, loss and target quorum. */
import type { QuorumRule } from '../agent/config/probes.ts';

/** Linear-interpolated percentile (p in 0..100) of `values`; undefined when empty. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (Math.min(100, Math.max(0, p)) / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (rank - lo);
}

/** Median of `values`; undefined when empty. */
export function median(values: readonly number[]): number | undefined {
  return percentile(values, 50);
}

/** Arithmetic mean; undefined when empty. */
export function mean(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/** Jitter = mean absolute difference of consecutive RTTs (RFC 3550 style, unsmoothed); needs ≥ 2 values. */
export function jitter(rttsInOrder: readonly number[]): number | undefined {
  if (rttsInOrder.length < 2) return undefined;
  let s = 0;
  for (let i = 1; i < rttsInOrder.length; i++) s += Math.abs((rttsInOrder[i] as number) - (rttsInOrder[i - 1] as number));
  return s / (rttsInOrder.length - 1);
}

/** Loss in percent (0–100); undefined when nothing was sent. */
export function lossPercent(sent: number, received: number): number | undefined {
  if (sent <= 0) return undefined;
  const lost = Math.max(0, sent - Math.min(received, sent));
  return (lost / sent) * 100;
}

/** How many of `total` targets must answer under `rule` (at least 1 when total > 0). */
export function quorumNeeded(total: number, rule: QuorumRule): number {
  if (total <= 0) return 0;
  if (typeof rule === 'number') return Math.min(total, rule);
  switch (rule) {
    case 'any':
      return 1;
    case 'all':
      return total;
    case 'half':
      return Math.max(1, Math.ceil(total / 2));
    case 'majority':
      return Math.floor(total / 2) + 1;
  }
}

/** True when `up` answering targets out of `total` meet the quorum. */
export function quorumMet(up: number, total: number, rule: QuorumRule): boolean {
  return total > 0 && up >= quorumNeeded(total, rule);
}

/** One probe packet/attempt in a sliding window: RTT when answered in time, null when lost. */
export interface WindowEntry {
  target: string;
  rttMs: number | null;
  /** Answered, but its timing cannot be vouched for (the agent was starved while it waited): not lost, no RTT. */
  untimed?: true;
}

/**
 * Fewest RTTs that must lie at or above the reported p95: with 20 samples the plain p95 is the largest one, so a single
 * delayed packet would set it. Two (or 5 % when the window is larger) make it a property of the link, not of one packet.
 */
export const P95_MIN_ABOVE = 2;

/** p95 that one outlier cannot set: the value with at least max(P95_MIN_ABOVE, 5 %) of the samples at or above it. */
export function robustP95(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const above = Math.max(P95_MIN_ABOVE, Math.ceil(0.05 * sorted.length));
  return sorted[Math.max(0, sorted.length - above)];
}

/**
 * Fewest consecutive-RTT differences (all targets together) a jitter figure is reported from. From one or two, one
 * delayed packet sets it: in the edge-site lab the first round after start-up read 58 ms of jitter on an idle link
 * and held the backup uplink degraded through its 5-s exit dwell (CI, session 20). Eight take four rounds of a
 * 2-packet burst to one target, so a jitter verdict is the link's, not one packet's; until then none is given.
 */
export const JITTER_MIN_DIFFS = 8;

/** Summary of a sliding window of probe attempts (all fields absent when nothing was measured). */
export interface WindowSummary {
  rttMs?: number;
  rttP95Ms?: number;
  jitterMs?: number;
  lossPercent?: number;
  /** Attempts the loss percentage is computed over. */
  lossSamples?: number;
}

/** Summarises a window: median/p95 RTT, jitter (consecutive RTTs per target, averaged; from JITTER_MIN_DIFFS on), loss (untimed answers are not lost). */
export function summariseWindow(entries: readonly WindowEntry[]): WindowSummary {
  const out: WindowSummary = {};
  const rtts = entries.flatMap((e) => (e.rttMs === null ? [] : [e.rttMs]));
  const med = median(rtts);
  if (med !== undefined) out.rttMs = med;
  const p95 = robustP95(rtts);
  if (p95 !== undefined) out.rttP95Ms = p95;
  const byTarget = new Map<string, number[]>();
  for (const e of entries) if (e.rttMs !== null) byTarget.set(e.target, [...(byTarget.get(e.target) ?? []), e.rttMs]);
  const series = [...byTarget.values()];
  const diffs = series.reduce((n, s) => n + Math.max(0, s.length - 1), 0);
  const j = diffs >= JITTER_MIN_DIFFS ? mean(series.flatMap((s) => jitter(s) ?? [])) : undefined;
  if (j !== undefined) out.jitterMs = j;
  const loss = lossPercent(entries.length, rtts.length + entries.filter((e) => e.untimed).length);
  if (loss !== undefined) {
    out.lossPercent = loss;
    out.lossSamples = entries.length;
  }
  return out;
}
