/** SVG path data of chart series: lines broken across gaps, min–max bands and dots, written compactly (relative moves). */
import type { Bucket } from './downsample.ts';
import { type Frame, xOf, yOf } from './chart-frame.ts';

/** Compact number for a path: at most one decimal. */
function n1(v: number): string {
  return String(Math.round(v * 10) / 10);
}

/**
 * Relative path through (x, y) points: "M x,y" then "l dx,dy", runs at the same height as one "h dx" (a loss line
 * at 0 % is mostly flat). About half the bytes of absolute "L x,y" pairs, which keeps the page under 60 KB.
 */
function relPath(points: readonly [number, number][], start: string): string {
  let d = '';
  let [px, py] = points[0] as [number, number];
  d += `${start}${n1(px)},${py}`;
  let flat = 0;
  for (const [x, y] of points.slice(1)) {
    if (y === py) flat += x - px;
    else {
      if (flat !== 0) d += `h${n1(flat)}`;
      flat = 0;
      d += `l${n1(x - px)},${y - py}`;
    }
    px = x;
    py = y;
  }
  if (flat !== 0) d += `h${n1(flat)}`;
  return d;
}

/** Contiguous runs of buckets (a gap wider than `joinMs` starts a new run). */
export function runsOf(buckets: readonly Bucket[], joinMs: number): Bucket[][] {
  const runs: Bucket[][] = [];
  for (const b of buckets) {
    const run = runs.at(-1);
    if (run && b.t - (run.at(-1) as Bucket).t <= joinMs) run.push(b);
    else runs.push([b]);
  }
  return runs;
}

/** The buckets' `key` as a line, broken across gaps wider than `joinMs` (an outage is a gap, not a slope). */
export function linePath(f: Frame, buckets: readonly Bucket[], key: 'avg' | 'min' | 'max', max: number, joinMs: number): string {
  return runsOf(buckets, joinMs)
    .map((r) =>
      relPath(
        r.map((b) => [xOf(f, b.t + f.bucketMs / 2), yOf(b[key], max)]),
        'M',
      ),
    )
    .join('');
}

/** Closed min–max band per contiguous run of buckets. */
export function bandPath(f: Frame, buckets: readonly Bucket[], max: number, joinMs: number): string {
  return runsOf(buckets, joinMs)
    .filter((r) => r.length > 1)
    .map((r) => {
      const top = r.map((b): [number, number] => [xOf(f, b.t + f.bucketMs / 2), yOf(b.max, max)]);
      const bottom = [...r].reverse().map((b): [number, number] => [xOf(f, b.t + f.bucketMs / 2), yOf(b.min, max)]);
      return `${relPath([...top, ...bottom], 'M')}Z`;
    })
    .join('');
}

/** Dots (zero-length round-capped segments) at each bucket: throughput points stay visible when few. */
export function dotsPath(f: Frame, buckets: readonly Bucket[], max: number): string {
  return buckets.map((b) => `M${xOf(f, b.t + f.bucketMs / 2)},${yOf(b.avg, max)}h0`).join('');
}
