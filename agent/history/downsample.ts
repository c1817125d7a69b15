/** Pure downsampling of time series into a bounded number of buckets with min/avg/max (no clock, no I/O). */

/** One raw observation: when, and the value. */
export interface RawPoint {
  atMs: number;
  value: number;
}

/** One bucket of a series: start of the bucket, min/avg/max of its values, how many values fell into it. */
export interface Bucket {
  t: number;
  min: number;
  avg: number;
  max: number;
  n: number;
}

/**
 * Upper bound of buckets per series: 288 = one per 5 minutes over 24 h. It bounds the JSON, the page's SVG paths
 * and the CLI's work whatever the probe cadence is.
 */
export const MAX_BUCKETS = 288;
/** Buckets are never shorter than this: light results are stored once a minute, finer buckets would be empty. */
export const MIN_BUCKET_MS = 60_000;

/** Bucket width for a window: the window divided into at most MAX_BUCKETS, rounded up to a whole minute. */
export function bucketWidthMs(sinceMs: number, untilMs: number, maxBuckets = MAX_BUCKETS): number {
  const span = Math.max(0, untilMs - sinceMs);
  const raw = Math.ceil(span / Math.max(1, maxBuckets));
  return Math.max(MIN_BUCKET_MS, Math.ceil(raw / MIN_BUCKET_MS) * MIN_BUCKET_MS);
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/** Bucket of `atMs`; a point exactly at `untilMs` belongs to the last bucket, not to one past the window. */
export function bucketIndex(atMs: number, sinceMs: number, untilMs: number, widthMs: number): number {
  const last = Math.max(0, Math.ceil((untilMs - sinceMs) / widthMs) - 1);
  return Math.min(last, Math.floor((atMs - sinceMs) / widthMs));
}

/**
 * Groups points inside [sinceMs, untilMs] into buckets of `widthMs` aligned on `sinceMs`; returns only non-empty
 * buckets, oldest first. Non-finite values and points outside the window are ignored (a gap stays a gap: the
 * charts must not draw a line through an outage with no data).
 */
export function downsample(points: readonly RawPoint[], sinceMs: number, untilMs: number, widthMs: number): Bucket[] {
  const acc = new Map<number, { min: number; max: number; sum: number; n: number }>();
  for (const p of points) {
    if (!Number.isFinite(p.value) || p.atMs < sinceMs || p.atMs > untilMs) continue;
    const k = bucketIndex(p.atMs, sinceMs, untilMs, widthMs);
    const a = acc.get(k);
    if (a) {
      a.min = Math.min(a.min, p.value);
      a.max = Math.max(a.max, p.value);
      a.sum += p.value;
      a.n += 1;
    } else acc.set(k, { min: p.value, max: p.value, sum: p.value, n: 1 });
  }
  return [...acc.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([k, a]) => ({ t: sinceMs + k * widthMs, min: round(a.min), avg: round(a.sum / a.n), max: round(a.max), n: a.n }));
}

/** Largest `max` of a series (0 when empty): the top of a chart's axis. */
export function seriesMax(...series: readonly (readonly Bucket[])[]): number {
  let m = 0;
  for (const s of series) for (const b of s) if (b.max > m) m = b.max;
  return m;
}

/** "24h", "6h", "90m", "2d" → milliseconds; null when the text is not such a duration. */
export function parseSince(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|min|h|d)$/.exec(text.trim());
  if (!m) return null;
  const unit: Record<string, number> = { s: 1_000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };
  const ms = Number(m[1]) * (unit[m[2] as string] as number);
  return Number.isFinite(ms) && ms > 0 ? ms : null;
}

/** Merges every `factor` consecutive bucket widths into one (min of mins, count-weighted mean, max of maxes), aligned on `sinceMs`. */
export function coarsen(buckets: readonly Bucket[], sinceMs: number, widthMs: number, factor: number): Bucket[] {
  if (factor <= 1) return [...buckets];
  const wide = widthMs * factor;
  const acc = new Map<number, Bucket & { sum: number }>();
  for (const b of buckets) {
    const k = Math.floor((b.t - sinceMs) / wide);
    const a = acc.get(k);
    if (!a) acc.set(k, { t: sinceMs + k * wide, min: b.min, max: b.max, avg: 0, n: b.n, sum: b.avg * b.n });
    else {
      a.min = Math.min(a.min, b.min);
      a.max = Math.max(a.max, b.max);
      a.sum += b.avg * b.n;
      a.n += b.n;
    }
  }
  return [...acc.values()].sort((x, y) => x.t - y.t).map((a) => ({ t: a.t, min: a.min, max: a.max, avg: round(a.sum / Math.max(1, a.n)), n: a.n }));
}
