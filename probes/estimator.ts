/** Pure throughput estimator: warm-up exclusion and a stability stop rule over cumulative byte samples. */
import { median } from './stats.ts';

/** One reading of a transfer's cumulative byte counter at a monotonic time (ms since the transfer began). */
export interface ByteSample {
  tMs: number;
  bytes: number;
}

export interface EstimatorOptions {
  /** Bin width for rate series; 100 ms holds ≥ 15 full-size packets even at 2 Mbit/s. */
  binMs: number;
  /** Shortest measured window (after warm-up) before `stable` may be true. */
  minMeasureMs: number;
  /** Stop when twice the relative standard error of the rate (≈ 95 % interval) is within this fraction. */
  stableTolerance: number;
  /**
   * Stall intervals (series time, ms): bins overlapping them are not the steady rate the warm-up is judged against.
   * Without this, an RTO stall at the end of a short capped transfer made its good start look like a shaper's burst
   * (bins 225, 242, 120, 32 kB: the start was cut as warm-up and the figure read 4.8 Mbit/s on a 19 Mbit/s link).
   */
  stalls?: readonly (readonly [number, number])[];
}

/** Defaults used by the probe and the CLI (config overrides minMeasureMs/stableTolerance). */
export const DEFAULT_ESTIMATOR: EstimatorOptions = { binMs: 100, minMeasureMs: 1_000, stableTolerance: 0.05 };
/** A bin below this fraction of the remaining bins' median is still slow start. */
export const WARMUP_LOW_FRACTION = 0.8;
/** A bin above this multiple of the remaining bins' median is a shaper's initial burst (token bucket) or buffer fill. */
export const WARMUP_HIGH_FACTOR = 1.25;
/** Never call more than this share of the elapsed time warm-up, so a ramp that never settles still yields a figure. */
export const MAX_WARMUP_SHARE = 0.6;

export interface Estimate {
  /** Estimated goodput in Mbit/s (10^6 bit/s) over the measured window. */
  mbps: number;
  /** Time excluded as warm-up (ms from the first sample). */
  warmupMs: number;
  /** Length of the measured window (ms). */
  measuredMs: number;
  /** Bytes inside the measured window. */
  measuredBytes: number;
  /** Relative standard error of the rate (∞ when the series is too short to tell). */
  relSe: number;
  /** Rate over the last TREND_TAIL_SHARE of the measured window (Mbit/s): a ramp still rising shows here first. */
  recentMbps: number;
  /** True when the window is long enough, the rate's uncertainty is within tolerance and the rate has no trend. */
  stable: boolean;
}

/** Bytes per millisecond → Mbit/s. */
export function toMbps(bytes: number, ms: number): number {
  return ms > 0 ? (bytes * 8) / ms / 1000 : 0;
}

/** Cumulative bytes at time `t` (linear interpolation between samples; samples sorted by time). */
export function bytesAt(samples: readonly ByteSample[], t: number): number {
  const first = samples[0];
  if (!first || t <= first.tMs) return first?.bytes ?? 0;
  for (let i = 1; i < samples.length; i++) {
    const b = samples[i] as ByteSample;
    if (b.tMs >= t) {
      const a = samples[i - 1] as ByteSample;
      return b.tMs === a.tMs ? b.bytes : a.bytes + ((b.bytes - a.bytes) * (t - a.tMs)) / (b.tMs - a.tMs);
    }
  }
  return (samples[samples.length - 1] as ByteSample).bytes;
}

/** Per-bin byte counts of complete bins from the first sample. */
export function binBytes(samples: readonly ByteSample[], binMs: number): number[] {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (!first || !last) return [];
  const n = Math.floor((last.tMs - first.tMs) / binMs);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(bytesAt(samples, first.tMs + (i + 1) * binMs) - bytesAt(samples, first.tMs + i * binMs));
  return out;
}

/**
 * Share of the measured window (its end) whose rate must agree with the whole window's for `stable`: a slow ramp
 * (CPU-starved client, a growing window) fits a straight line well enough to pass the standard-error test while its
 * average is still far below where it is heading; its last part runs faster than the whole.
 */
export const TREND_TAIL_SHARE = 0.4;
/** Shortest tail (ms) the trend test judges: shorter tails are all bursts (receiver batching, 100 ms bins). */
export const TREND_MIN_TAIL_MS = 300;

/**
 * Readings (cumulative-byte samples) a window needs per bin before it may be `stable`: at least one on average. A
 * download reads a chunk every few ms even at 0.5 Mbit/s; a window bridged by interpolation between a few readings
 * has no evidence of a steady rate.
 */
export const STABLE_MIN_READINGS_PER_BIN = 1;

/** Bins averaged (centred) before the warm-up test, so one bursty bin neither ends nor extends warm-up. */
export const WARMUP_SMOOTH_BINS = 3;
/** Delivery is bursty on this time scale (receiver batching, loss recovery): residuals closer than this are correlated. */
export const CORRELATION_MS = 250;

/**
 * Index of the first bin that is neither slow start (too low) nor an initial burst (too high), judged against the
 * median of the bins from there on; bins flagged in `stalled` (a stream waiting out a loss) are left out of that median.
 */
export function warmupBins(bins: readonly number[], stalled: readonly boolean[] = []): number {
  const maxSkip = Math.floor(bins.length * MAX_WARMUP_SHARE);
  const half = Math.floor(WARMUP_SMOOTH_BINS / 2);
  for (let i = 0; i < maxSkip; i++) {
    const steady = bins.slice(i).filter((_, j) => stalled[i + j] !== true);
    const ref = median(steady.length > 0 ? steady : bins.slice(i)) ?? 0;
    const around = bins.slice(Math.max(0, i - half), i + half + 1);
    const b = around.reduce((x, y) => x + y, 0) / around.length;
    if (ref > 0 && b >= WARMUP_LOW_FRACTION * ref && b <= WARMUP_HIGH_FACTOR * ref) return i;
  }
  return maxSkip;
}

/** Least-squares slope (bytes/ms) of cumulative bytes on a regular grid over [t0, t1], and its relative standard error. */
export function slopeFit(samples: readonly ByteSample[], t0: number, t1: number, stepMs: number): { slope: number; relSe: number } {
  const xs: number[] = [];
  for (let t = t0; t <= t1 + 1e-9; t += stepMs) xs.push(t);
  if (xs[xs.length - 1] !== t1) xs.push(t1);
  const ys = xs.map((t) => bytesAt(samples, t));
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += ((xs[i] as number) - mx) ** 2;
    sxy += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  let rss = 0;
  for (let i = 0; i < n; i++) rss += ((ys[i] as number) - (my + slope * ((xs[i] as number) - mx))) ** 2;
  // residuals within CORRELATION_MS are not independent: inflate the standard error by √(correlated points per step)
  const inflate = Math.sqrt(Math.max(1, CORRELATION_MS / stepMs));
  const se = n > 2 && sxx > 0 ? Math.sqrt(rss / (n - 2) / sxx) * inflate : Number.POSITIVE_INFINITY;
  return { slope, relSe: slope > 0 ? se / slope : Number.POSITIVE_INFINITY };
}

/**
 * Estimates goodput from cumulative samples: warm-up excluded, then the least-squares slope of the cumulative
 * byte curve (robust to bursty delivery, unlike first/last differences). `stable` (the early stop) holds when the
 * window is at least `minMeasureMs` long, twice the slope's relative standard error is within `stableTolerance`, and
 * the rate of the window's last part (TREND_TAIL_SHARE) agrees with the whole window's within `stableTolerance`.
 */
export function estimate(samples: readonly ByteSample[], opts: EstimatorOptions = DEFAULT_ESTIMATOR): Estimate | undefined {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (!first || !last || last.tMs <= first.tMs) return undefined;
  const bins = binBytes(samples, opts.binMs);
  if (bins.length < 3) {
    const bytes = last.bytes - first.bytes;
    const ms = last.tMs - first.tMs;
    return {
      mbps: toMbps(bytes, ms),
      warmupMs: 0,
      measuredMs: ms,
      measuredBytes: bytes,
      relSe: Number.POSITIVE_INFINITY,
      recentMbps: toMbps(bytes, ms),
      stable: false,
    };
  }
  const inStall = (k: number): boolean => {
    const a = first.tMs + k * opts.binMs;
    return (opts.stalls ?? []).some(([s0, s1]) => s0 < a + opts.binMs && s1 > a);
  };
  const startT = first.tMs + warmupBins(bins, opts.stalls ? bins.map((_, k) => inStall(k)) : []) * opts.binMs;
  const endT = last.tMs;
  const measuredMs = endT - startT;
  const measuredBytes = bytesAt(samples, endT) - bytesAt(samples, startT);
  const fit = slopeFit(samples, startT, endT, opts.binMs / 2);
  const mbps = toMbps(fit.slope, 1);
  const tailMs = Math.max(TREND_MIN_TAIL_MS, TREND_TAIL_SHARE * measuredMs);
  const recentMbps = tailMs < measuredMs ? toMbps(slopeFit(samples, endT - tailMs, endT, opts.binMs / 2).slope, 1) : mbps;
  const flat = mbps > 0 && Math.abs(recentMbps / mbps - 1) <= opts.stableTolerance;
  // the fit runs on a grid interpolated between readings: two readings 1.2 s apart make a perfect line (the lab at
  // 600 ms RTT: "stable" 0.04 Mbit/s from the first 5.6 kB of headers), so the window must hold real readings
  const readings = samples.filter((p) => p.tMs > startT && p.tMs <= endT).length;
  const sampled = readings >= STABLE_MIN_READINGS_PER_BIN * (measuredMs / opts.binMs);
  const stable = measuredMs >= opts.minMeasureMs && mbps > 0 && 2 * fit.relSe <= opts.stableTolerance && flat && sampled;
  return { mbps, warmupMs: startT - first.tMs, measuredMs, measuredBytes, relSe: fit.relSe, recentMbps, stable };
}

/** Next per-stream transfer size: double until one transfer lasts `trustMs`, never above `capBytes`. */
export function nextTransferSize(prevBytes: number, prevDurationMs: number, trustMs: number, capBytes: number): number {
  const next = prevDurationMs >= trustMs ? prevBytes : prevBytes * 2;
  return Math.max(1, Math.min(capBytes, Math.round(next)));
}

/**
 * Delivered-bytes series for uploads, from completed requests only: a request's series runs from 0 to its size,
 * either the server's own arrival ticks (linkward server) or a straight line from start to completion (a stream
 * sends continuously, and a completion proves delivery). Bytes pulled into socket buffers arrive in bursts and would
 * distort the rate, so they are not used. Sums every request on a `stepMs` grid, valid up to the earliest unfinished
 * stream's last completion; empty until every stream has completed a request.
 */
export function deliveredSeries(streams: readonly (readonly (readonly ByteSample[])[])[], stepMs: number, finished: readonly boolean[] = []): ByteSample[] {
  const reqs = streams.flat().filter((r) => r.length > 0);
  if (streams.length === 0 || streams.some((s) => !s.some((r) => r.length > 0))) return [];
  const lastOf = (s: readonly (readonly ByteSample[])[]): number => Math.max(...s.filter((r) => r.length > 0).map((r) => (r[r.length - 1] as ByteSample).tMs));
  const t0 = Math.min(...reqs.map((r) => (r[0] as ByteSample).tMs));
  // a finished stream's series is complete: it does not limit how far the sum is known
  const open = streams.filter((_, i) => !finished[i]);
  const t1 = open.length > 0 ? Math.min(...open.map(lastOf)) : Math.max(...streams.map(lastOf));
  const at = (t: number): number => reqs.reduce((sum, r) => sum + bytesAt(r, t), 0);
  const out: ByteSample[] = [];
  for (let t = t0; t <= t1 + 1e-9; t += stepMs) out.push({ tMs: t, bytes: at(t) });
  if (out.length > 0 && (out[out.length - 1] as ByteSample).tMs < t1) out.push({ tMs: t1, bytes: at(t1) });
  return out;
}

/**
 * deliveredSeries that does not wait for lagging streams (one starving at a slow link's start, or stalled in loss
 * recovery): the `skip` streams neither limit how far the sum reaches nor need a completion, and count only their
 * completed requests. A lower bound of the delivered total, short by at most what the skipped streams have in progress.
 */
export function laggardFreeSeries(
  streams: readonly (readonly (readonly ByteSample[])[])[],
  stepMs: number,
  finished: readonly boolean[],
  skip: readonly boolean[],
): ByteSample[] {
  const kept = streams.map((s, i) => ({ s, done: (finished[i] ?? false) || (skip[i] ?? false) })).filter((x) => !x.done || x.s.some((r) => r.length > 0));
  return deliveredSeries(
    kept.map((x) => x.s),
    stepMs,
    kept.map((x) => x.done),
  );
}
