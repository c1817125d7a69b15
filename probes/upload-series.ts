/** Upload rate estimate (pure): the delivered series of completed requests, not held back by one lagging stream. */
import { bytesAt, deliveredSeries, estimate, laggardFreeSeries, type ByteSample, type Estimate, type EstimatorOptions } from './estimator.ts';

/** Grid (ms) of the upload delivered series: the linkward server's arrival-tick spacing (UPLOAD_TICK_MS). */
export const UP_STEP_MS = 20;
/**
 * A lagging stream may be left out of the series while what it has in progress is at most this share of the window's
 * bytes: it has delivered part of it already (about half on average), so the figure is low by ≲ 5 %.
 */
export const MAX_LAGGARD_SHARE = 0.1;

export interface UploadProgress {
  /** Per stream, the delivered-bytes series of each completed request (server ticks, or start→completion). */
  completed: readonly (readonly (readonly ByteSample[])[])[];
  /** Streams that will start no further request (their series is complete). */
  finished: readonly boolean[];
  /** Per stream, the size of the request in progress (0 between requests). */
  inProgress: readonly number[];
  /** Cumulative bytes handed to the sockets (fallback only: socket buffers fill in bursts). */
  pulled: readonly ByteSample[];
  /**
   * End of the series (server clock), set when the probe stopped and let its uploads finish: the figure covers what
   * was delivered up to the stop, not the drain after it, when fewer and fewer streams (the last often a stalled one)
   * use the link.
   */
  untilMs?: number;
}

export interface SeriesEstimate {
  s: readonly ByteSample[];
  e: Estimate | undefined;
  /** What the line-rate allowance may judge by: `e` when it comes from delivered bytes, else a lower bound of them. */
  bound?: Estimate;
}

/** Time of a stream's last completed request (−∞ before its first). */
function lastDone(reqs: readonly (readonly ByteSample[])[]): number {
  return reqs.reduce((m, r) => Math.max(m, (r[r.length - 1] as ByteSample | undefined)?.tMs ?? m), Number.NEGATIVE_INFINITY);
}

/** Latest completion of any request (server clock; −∞ before the first). */
export function lastCompletionMs(completed: UploadProgress['completed']): number {
  return completed.reduce((m, s) => Math.max(m, lastDone(s)), Number.NEGATIVE_INFINITY);
}

/** The series cut at `untilMs` (interpolated there). */
function upTo(s: readonly ByteSample[], untilMs: number | undefined): readonly ByteSample[] {
  if (untilMs === undefined || s.length === 0 || (s[s.length - 1] as ByteSample).tMs <= untilMs) return s;
  return [...s.filter((p) => p.tMs < untilMs), { tMs: untilMs, bytes: bytesAt(s, untilMs) }];
}

/**
 * The delivered series reaches only as far as the most lagging stream's last completion: a stream starving at a slow
 * link's start, or stalled in loss recovery, holds it back. Unless that series is already stable, the most lagging
 * open streams are left out one by one (laggardFreeSeries) while what they have in progress stays within
 * MAX_LAGGARD_SHARE of the window, and the longest window wins (never `stable`: the rule needs the exact series).
 * Without any, pulled bytes (socket buffers fill in bursts: not to judge by), and the longest series without
 * laggards as a lower bound of the delivered rate to judge by.
 */
export function uploadEstimate(p: UploadProgress, opts: EstimatorOptions): SeriesEstimate {
  const exact = upTo(deliveredSeries(p.completed, UP_STEP_MS, p.finished), p.untilMs);
  let best: { s: readonly ByteSample[]; e: Estimate } | undefined;
  let bound: Estimate | undefined;
  const ee = exact.length > 0 ? estimate(exact, opts) : undefined;
  if (ee) best = { s: exact, e: ee };
  if (ee?.stable) return { s: exact, e: ee, bound: ee };
  const open = p.completed
    .map((_, i) => i)
    .filter((i) => !p.finished[i])
    .sort((a, b) => lastDone(p.completed[a] ?? []) - lastDone(p.completed[b] ?? []));
  const skip = p.completed.map(() => false);
  let missing = 0;
  for (const i of open.slice(0, -1)) {
    skip[i] = true;
    missing += p.inProgress[i] ?? 0;
    const s = upTo(laggardFreeSeries(p.completed, UP_STEP_MS, p.finished, skip), p.untilMs);
    const e = s.length > 0 ? estimate(s, opts) : undefined;
    if (!e) continue;
    if (e.measuredMs > (bound?.measuredMs ?? 0)) bound = { ...e, stable: false };
    if (missing <= MAX_LAGGARD_SHARE * e.measuredBytes && e.measuredMs > (best?.e.measuredMs ?? 0)) best = { s, e: { ...e, stable: false } };
  }
  if (best) return { ...best, bound: best.e };
  const e = estimate(p.pulled, opts);
  return { s: p.pulled, e: e && { ...e, stable: false }, ...(bound ? { bound } : {}) };
}
