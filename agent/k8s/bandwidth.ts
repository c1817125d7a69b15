/** Bucketed bandwidth class for the linkward.io/bandwidth-class label, with hysteresis so labels do not churn. */

/** A value must pass a boundary by this fraction before the class changes (no flapping around 5.0 Mbps). */
export const BANDWIDTH_HYSTERESIS = 0.15;

/** Label value of bucket `i` for `bounds` (e.g. [1,5,25,100] → lt-1m, 1m-5m, 5m-25m, 25m-100m, ge-100m). */
export function className(bounds: readonly number[], i: number): string {
  const fmt = (n: number): string => `${String(n).replace('.', 'p')}m`;
  if (i <= 0) return `lt-${fmt(bounds[0] ?? 0)}`;
  if (i >= bounds.length) return `ge-${fmt(bounds[bounds.length - 1] ?? 0)}`;
  return `${fmt(bounds[i - 1] ?? 0)}-${fmt(bounds[i] ?? 0)}`;
}

function bucketOf(bounds: readonly number[], mbps: number): number {
  let i = 0;
  while (i < bounds.length && mbps >= (bounds[i] ?? Infinity)) i++;
  return i;
}

/**
 * Class for `mbps`; keeps `current` while the value stays within the hysteresis margin of the current bucket.
 * Returns undefined when nothing was measured (the label is then left as it is).
 */
export function bandwidthClass(bounds: readonly number[], mbps: number | undefined, current: string | undefined): string | undefined {
  if (mbps === undefined || !Number.isFinite(mbps)) return current;
  const sorted = [...bounds].sort((a, b) => a - b);
  const raw = bucketOf(sorted, mbps);
  if (current !== undefined) {
    const cur = Array.from({ length: sorted.length + 1 }, (_, i) => i).find((i) => className(sorted, i) === current);
    if (cur !== undefined && cur !== raw) {
      const lo = cur === 0 ? -Infinity : (sorted[cur - 1] ?? 0) * (1 - BANDWIDTH_HYSTERESIS);
      const hi = cur === sorted.length ? Infinity : (sorted[cur] ?? 0) * (1 + BANDWIDTH_HYSTERESIS);
      if (mbps >= lo && mbps < hi) return current;
    }
  }
  return className(sorted, raw);
}
