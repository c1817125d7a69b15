/** Inline SVG charts of a history document for the status page: lines, min–max bands, state strip, event markers, hover titles (pure, no script). */
import type { Bucket } from './downsample.ts';
import type { HistoryDoc } from './query.ts';

/** ViewBox width: one unit per 5-minute bucket of a 24 h window; the SVG is stretched to the page width. */
const VIEW_W = 288;
/** ViewBox height of a chart (the CSS sets the drawn height; strokes do not scale). */
const VIEW_H = 100;
/** Hover slots per chart: 24 = one per hour over 24 h. Each carries a `<title>` (shown without JavaScript); 48 weighed 4 KB more per chart and broke the 60 KB page budget. */
export const HOVER_SLOTS = 24;
/** A line is broken where consecutive light buckets are further apart than this many buckets (an outage is a gap, not a slope). */
const GAP_BUCKETS = 3;
/** Throughput is measured every 30 min to hours: its points are joined only when closer than this. */
const THROUGHPUT_JOIN_MS = 4 * 3_600_000;

export const STATE_COLOUR: Record<string, string> = { healthy: '#2e9e52', degraded: '#d49a00', down: '#c62828', unknown: '#8a9bbd', 'no data': '#e3e6ec' };

export function esc(v: unknown): string {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** Rounds for display: 1 decimal under 100, whole numbers above. */
export function fig(v: number): string {
  return String(Math.abs(v) >= 100 ? Math.round(v) : Math.round(v * 10) / 10);
}

export interface Frame {
  sinceMs: number;
  untilMs: number;
  bucketMs: number;
  /** Local time of day, e.g. "14:05" (the page formats in the device's time zone). */
  time(ms: number): string;
  /** Hover slots per chart (HOVER_SLOTS, fewer when many uplinks share the page budget). */
  hoverSlots: number;
}

export function frameOf(doc: HistoryDoc, time: (ms: number) => string, hoverSlots = HOVER_SLOTS): Frame {
  return { sinceMs: doc.sinceMs, untilMs: doc.untilMs, bucketMs: doc.bucketMs, time, hoverSlots };
}

function xOf(f: Frame, t: number): number {
  const span = Math.max(1, f.untilMs - f.sinceMs);
  return Math.round(((t - f.sinceMs) / span) * VIEW_W * 10) / 10;
}

/** Top of a chart's axis: the largest value, rounded up to a 1-2-5 step so the caption reads "up to 50 ms". */
export function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

function yOf(v: number, max: number): number {
  return Math.round(VIEW_H - 2 - (Math.min(v, max) / max) * (VIEW_H - 6));
}

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
function runsOf(buckets: readonly Bucket[], joinMs: number): Bucket[][] {
  const runs: Bucket[][] = [];
  for (const b of buckets) {
    const run = runs.at(-1);
    if (run && b.t - (run.at(-1) as Bucket).t <= joinMs) run.push(b);
    else runs.push([b]);
  }
  return runs;
}

/** The buckets' `key` as a line, broken across gaps wider than `joinMs` (an outage is a gap, not a slope). */
function linePath(f: Frame, buckets: readonly Bucket[], key: 'avg' | 'min' | 'max', max: number, joinMs: number): string {
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
function bandPath(f: Frame, buckets: readonly Bucket[], max: number, joinMs: number): string {
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
function dotsPath(f: Frame, buckets: readonly Bucket[], max: number): string {
  return buckets.map((b) => `M${xOf(f, b.t + f.bucketMs / 2)},${yOf(b.avg, max)}h0`).join('');
}

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

/**
 * The colour strip of an uplink's (or the node's) state over the window, from its transitions; `current` fills a
 * window without any. Before `knownFromMs` (the first record of any kind, e.g. an agent started an hour ago) the strip
 * says "no data" instead of stretching today's state back over the whole day.
 */
export function stateStrip(
  id: string,
  f: Frame,
  transitions: readonly { atMs: number; from: string; to: string }[],
  current: string,
  knownFromMs = f.sinceMs,
): string {
  const sorted = [...transitions].filter((t) => t.atMs >= f.sinceMs && t.atMs <= f.untilMs).sort((a, b) => a.atMs - b.atMs);
  const segs: { from: number; to: number; state: string }[] = [];
  let state = sorted[0]?.from ?? current;
  let at = f.sinceMs;
  const known = Math.min(knownFromMs, sorted[0]?.atMs ?? knownFromMs, f.untilMs);
  if (known > at) {
    segs.push({ from: at, to: known, state: 'no data' });
    at = known;
  }
  for (const t of sorted) {
    segs.push({ from: at, to: t.atMs, state });
    state = t.to;
    at = t.atMs;
  }
  segs.push({ from: at, to: f.untilMs, state });
  const rects = segs
    .filter((s) => s.to > s.from)
    .map((s) => {
      const x = xOf(f, s.from);
      return `<rect x="${x}" width="${Math.max(0.3, Math.round((xOf(f, s.to) - x) * 10) / 10)}" height="10" fill="${STATE_COLOUR[s.state] ?? STATE_COLOUR.unknown}" data-state="${esc(s.state)}"><title>${esc(`${s.state} ${f.time(s.from)}–${f.time(s.to)}`)}</title></rect>`;
    })
    .join('');
  return `<svg id="${esc(id)}" class="strip" viewBox="0 0 ${VIEW_W} 10" preserveAspectRatio="none" role="img" aria-label="state over time">${rects}</svg>`;
}

/** Tick steps an axis may use, in minutes: each divides a day, so ticks fall on round local times (06:00, 12:00, ...). */
const TICK_STEPS_MIN = [5, 10, 15, 30, 60, 120, 180, 360, 720, 1440];
/** Most time labels besides "now": four "HH:MM" (~35 px each at .75rem) stay apart on a 330 px phone chart. */
const MAX_TICKS = 4;
/**
 * Ticks this close to an end (percent of the width) get no label: at the left it would be cut off (labels are centred
 * on their tick), at the right it would run into "now" (~25 px, right-aligned, plus half a label: ~15 % of a phone chart).
 */
const LEFT_CLEARANCE_PCT = 6;
const RIGHT_CLEARANCE_PCT = 15;

/** Minutes since local midnight of `ms`, read back from the page's own formatter ("14:05"), so ticks follow its time zone. */
function localMinute(f: Frame, ms: number): number {
  const m = /^(\d\d):(\d\d)/.exec(f.time(ms));
  return m ? Number(m[1]) * 60 + Number(m[2]) : 0;
}

/** Instants in (sinceMs, untilMs) at round local times, every `step` minutes (a DST change re-aligns to the next one). */
export function axisTicks(f: Frame): number[] {
  const spanMin = (f.untilMs - f.sinceMs) / 60_000;
  const step = TICK_STEPS_MIN.find((s) => spanMin / s <= MAX_TICKS) ?? (TICK_STEPS_MIN.at(-1) as number);
  const align = (ms: number): number => {
    const whole = Math.ceil(ms / 60_000) * 60_000; // zone offsets are whole minutes: a UTC minute is a local one
    return whole + ((step - (localMinute(f, whole) % step)) % step) * 60_000;
  };
  const out: number[] = [];
  for (let t = align(f.sinceMs + 1); t < f.untilMs; t = align(t + step * 60_000)) out.push(t);
  return out;
}

/**
 * Time labels under the charts: each centred on its tick at a round local time, "now" at the right end. Labels are
 * placed where their time is on the chart (an evenly spaced row put "10:17" wherever the text widths left it) and
 * none is drawn where it would be cut off or collide with "now".
 */
export function timeAxis(f: Frame): string {
  const span = Math.max(1, f.untilMs - f.sinceMs);
  const ticks = axisTicks(f)
    .map((t) => ({ t, pct: Math.round(((t - f.sinceMs) / span) * 1000) / 10 }))
    .filter((x) => x.pct >= LEFT_CLEARANCE_PCT && x.pct <= 100 - RIGHT_CLEARANCE_PCT);
  return `<div class="axis">${ticks.map((x) => `<span style="left:${x.pct}%">${esc(f.time(x.t))}</span>`).join('')}<span class="now">now</span></div>`;
}
