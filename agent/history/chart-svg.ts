/** An inline SVG chart of history series for the status page: lines, min–max bands, event markers, hover titles (pure, no script). */
import type { Bucket } from './downsample.ts';
import { esc, fig, type Frame, VIEW_H, VIEW_W, xOf } from './chart-frame.ts';
import { bandPath, dotsPath, linePath, runsOf } from './chart-path.ts';

/** A line is broken where consecutive light buckets are further apart than this many buckets (an outage is a gap, not a slope). */
const GAP_BUCKETS = 3;
/** Throughput is measured every 30 min to hours: its points are joined only when closer than this. */
const THROUGHPUT_JOIN_MS = 4 * 3_600_000;

/** A marker drawn across a chart: a vertical line at `atMs` with its hover text. */
export interface Marker {
  atMs: number;
  kind: 'state' | 'failover' | 'node';
  colour: string;
  text: string;
}

/** Marker lines, with their hover text unless `titled` is false. */
function markersSvg(f: Frame, markers: readonly Marker[], titled: boolean): string {
  return markers
    .filter((m) => m.atMs >= f.sinceMs && m.atMs <= f.untilMs)
    .map((m) => `<path class="mk ${m.kind}" d="M${xOf(f, m.atMs)},0V${VIEW_H}" stroke="${m.colour}"${titled ? `><title>${esc(m.text)}</title></path>` : '/>'}`)
    .join('');
}

/** Merges the buckets of one hover slot: min of mins, mean weighted by count, max of maxes. */
function merge(list: readonly Bucket[]): Bucket | null {
  if (list.length === 0) return null;
  const n = list.reduce((s, b) => s + b.n, 0);
  return {
    t: (list[0] as Bucket).t,
    min: Math.min(...list.map((b) => b.min)),
    max: Math.max(...list.map((b) => b.max)),
    avg: list.reduce((s, b) => s + b.avg * b.n, 0) / Math.max(1, n),
    n,
  };
}

/** One series of a chart: its buckets, how to draw it, and its words for the hover text. */
export interface Line {
  name: string;
  buckets: readonly Bucket[];
  colour: string;
  style: 'line' | 'band' | 'dots';
  /** Unit in the hover text, e.g. "ms". */
  unit: string;
}

/** Transparent hover slots with one `<title>` each: "13:30–14:00 · delay 31 ms (20–80)". */
function hoverSvg(f: Frame, lines: readonly Line[]): string {
  if (f.hoverSlots <= 0) return ''; // a lean page: the captions carry the figures in words
  const slotMs = (f.untilMs - f.sinceMs) / f.hoverSlots;
  const w = Math.round((VIEW_W / f.hoverSlots) * 10) / 10;
  let out = '';
  for (let i = 0; i < f.hoverSlots; i++) {
    const from = f.sinceMs + i * slotMs;
    const parts: string[] = [];
    for (const l of lines) {
      const m = merge(l.buckets.filter((b) => b.t >= from && b.t < from + slotMs));
      if (m) parts.push(`${l.name} ${fig(m.avg)}${m.max > m.min ? ` (${fig(m.min)}–${fig(m.max)})` : ''} ${l.unit}`);
    }
    if (parts.length > 0)
      out += `<rect x="${Math.round(i * w * 10) / 10}" width="${w}" height="${VIEW_H}"><title>${esc(`${f.time(from)}–${f.time(from + slotMs)} · ${parts.join(' · ')}`)}</title></rect>`;
  }
  return `<g class="hv">${out}</g>`;
}

/** A chart: SVG with the lines, markers and hover slots; `max` is the axis top. `id` names it for tests and links. */
/**
 * `lean` (a page with many uplinks) draws markers without hover text (the events list and state strips name them) and
 * throughput as dots without the thin line joining them.
 */
export function chartSvg(id: string, f: Frame, lines: readonly Line[], max: number, markers: readonly Marker[], label: string, lean = false): string {
  const join = GAP_BUCKETS * f.bucketMs;
  const body = lines
    .map((l) => {
      const n = ` data-series="${esc(l.name)}" data-points="${l.buckets.length}"`;
      if (l.style === 'dots')
        return `${lean ? '' : `<path class="ln thin" stroke="${l.colour}" d="${linePath(f, l.buckets, 'avg', max, THROUGHPUT_JOIN_MS)}"/>`}<path class="dot"${n} stroke="${l.colour}" d="${dotsPath(f, l.buckets, max)}"/>`;
      // A bucket with no neighbour (an agent started minutes ago, a lone round between gaps) is a one-point line,
      // which draws nothing: it gets a dot.
      const lone = runsOf(l.buckets, join)
        .filter((r) => r.length === 1)
        .flat();
      const dots = lone.length > 0 ? `<path class="dot lone" stroke="${l.colour}" d="${dotsPath(f, lone, max)}"/>` : '';
      const band = l.style === 'band' ? `<path class="band" fill="${l.colour}" fill-opacity=".22" d="${bandPath(f, l.buckets, max, join)}"/>` : '';
      return `${band}<path class="ln"${n} stroke="${l.colour}" d="${linePath(f, l.buckets, 'avg', max, join)}"/>${dots}`;
    })
    .join('');
  return `<svg id="${esc(id)}" class="chart" viewBox="0 0 ${VIEW_W} ${VIEW_H}" preserveAspectRatio="none" role="img" aria-label="${esc(label)}" data-max="${max}">${body}${markersSvg(f, markers, !lean)}${hoverSvg(f, lines)}</svg>`;
}
