/** Pure throughput estimator: warm-up exclusion and a stability stop rule over cumulative byte samples. */

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
  /** Both halves of the measured window must agree within this fraction. */
  stableTolerance: number;
}

/** Defaults used by the probe and the CLI (config overrides minMeasureMs/stableTolerance). */
export const DEFAULT_ESTIMATOR: EstimatorOptions = { binMs: 100, minMeasureMs: 1_000, stableTolerance: 0.03 };
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
  /** True when the window is long enough and its halves agree within tolerance. */
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

function medianOf(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Index of the first bin that is neither slow start (too low) nor an initial burst (too high). */
export function warmupBins(bins: readonly number[]): number {
  const maxSkip = Math.floor(bins.length * MAX_WARMUP_SHARE);
  for (let i = 0; i < maxSkip; i++) {
    const ref = medianOf(bins.slice(i));
    const b = bins[i] as number;
    if (ref > 0 && b >= WARMUP_LOW_FRACTION * ref && b <= WARMUP_HIGH_FACTOR * ref) return i;
  }
  return maxSkip;
}

/** Estimates goodput from cumulative samples, excluding warm-up; `stable` drives the early stop. */
export function estimate(samples: readonly ByteSample[], opts: EstimatorOptions = DEFAULT_ESTIMATOR): Estimate | undefined {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (!first || !last || last.tMs <= first.tMs) return undefined;
  const bins = binBytes(samples, opts.binMs);
  if (bins.length < 3) {
    const bytes = last.bytes - first.bytes;
    const ms = last.tMs - first.tMs;
    return { mbps: toMbps(bytes, ms), warmupMs: 0, measuredMs: ms, measuredBytes: bytes, stable: false };
  }
  const startT = first.tMs + warmupBins(bins) * opts.binMs;
  const endT = last.tMs;
  const measuredMs = endT - startT;
  const measuredBytes = bytesAt(samples, endT) - bytesAt(samples, startT);
  const mbps = toMbps(measuredBytes, measuredMs);
  const midT = startT + measuredMs / 2;
  const r1 = toMbps(bytesAt(samples, midT) - bytesAt(samples, startT), measuredMs / 2);
  const r2 = toMbps(bytesAt(samples, endT) - bytesAt(samples, midT), measuredMs / 2);
  const stable = measuredMs >= opts.minMeasureMs && mbps > 0 && Math.abs(r1 - r2) <= opts.stableTolerance * mbps;
  return { mbps, warmupMs: startT - first.tMs, measuredMs, measuredBytes, stable };
}

/** Next per-stream transfer size: double until one transfer lasts `trustMs`, never above `capBytes`. */
export function nextTransferSize(prevBytes: number, prevDurationMs: number, trustMs: number, capBytes: number): number {
  const next = prevDurationMs >= trustMs ? prevBytes : prevBytes * 2;
  return Math.max(1, Math.min(capBytes, Math.round(next)));
}
