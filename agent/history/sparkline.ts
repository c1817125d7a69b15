/** Text sparklines of history buckets for the terminal (`linkward history`, `status --watch`): pure, fixed width. */
import type { Bucket } from './downsample.ts';

/** Eight block heights; a column without data is a space (a gap is not a zero). */
const BLOCKS = '▁▂▃▄▅▆▇█';

/**
 * One character per column over [sinceMs, untilMs]: each column takes the mean of the buckets that start in it,
 * scaled from 0 to `max` (default: the largest value shown).
 */
export function sparkline(buckets: readonly Bucket[], sinceMs: number, untilMs: number, width: number, max?: number): string {
  const cols: { sum: number; n: number }[] = Array.from({ length: width }, () => ({ sum: 0, n: 0 }));
  const span = Math.max(1, untilMs - sinceMs);
  for (const b of buckets) {
    if (b.t < sinceMs || b.t > untilMs) continue;
    const c = cols[Math.min(width - 1, Math.floor(((b.t - sinceMs) / span) * width))] as { sum: number; n: number };
    c.sum += b.avg;
    c.n += 1;
  }
  const means = cols.map((c) => (c.n > 0 ? c.sum / c.n : null));
  const top = max ?? Math.max(0, ...means.filter((m): m is number => m !== null));
  return means
    .map((m) => {
      if (m === null) return ' ';
      if (!(top > 0)) return BLOCKS[0];
      return BLOCKS[Math.max(0, Math.min(BLOCKS.length - 1, Math.round((m / top) * (BLOCKS.length - 1))))];
    })
    .join('');
}

/** Sparkline of plain values in order (the watch loop's recent polls); nulls are gaps. */
export function sparkValues(values: readonly (number | null)[], width: number): string {
  const shown = values.slice(-width);
  const top = Math.max(0, ...shown.filter((v): v is number => v !== null));
  return shown.map((v) => (v === null ? ' ' : top > 0 ? BLOCKS[Math.max(0, Math.min(7, Math.round((v / top) * 7)))] : BLOCKS[0])).join('');
}
