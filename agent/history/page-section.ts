/** The "last 24 hours" part of the status page: per uplink state strip and charts, telemetry backlog, and a list of what happened (pure HTML). */
import { coarsen, type Bucket } from './downsample.ts';
import { SERIES, type HistoryDoc, type SeriesName } from './query.ts';
import { chartSvg, esc, fig, frameOf, HOVER_SLOTS, niceMax, stateStrip, STATE_COLOUR, timeAxis, type Frame, type Line, type Marker } from './chart-svg.ts';

/** Issue 13: the whole status page ≤ 60 KB, read as 60,000 bytes (the stricter reading). */
export const PAGE_BUDGET_BYTES = 60_000;

/** How finely the page charts: bucket merge factor (of the 5-min buckets), hover slots per chart, lean drawing. */
export interface PageResolution {
  factor: number;
  /** 0: no hover slots (the captions give range and last value in words). */
  hoverSlots: number;
  /** No hover text on markers (the events list and the state strips name them), short chart labels, throughput as dots only. */
  lean: boolean;
}

/**
 * Resolutions, finest first; the page takes the finest whose section fits the bytes left by the rest of the page.
 * Measured (down scenario, one uplink's section): ~16 KB at factor 1, ~6.6 KB at factor 6 (of it 2.2 KB hover titles,
 * 2 KB paths, 0.85 KB marker titles). Past six uplinks the titles would crowd out the lines, so the lean steps drop
 * them and the fixed parts (captions, strip, axis, SVG wrappers, ~1.6 KB) remain: 8 and 12 uplinks then chart at
 * factor 6 and 16 at factor 24 (2 h buckets) within 60 KB. Factors divide 288, so buckets stay aligned.
 */
export const RESOLUTIONS: readonly PageResolution[] = [
  { factor: 1, hoverSlots: HOVER_SLOTS, lean: false },
  { factor: 3, hoverSlots: HOVER_SLOTS / 2, lean: false },
  { factor: 6, hoverSlots: HOVER_SLOTS / 4, lean: false },
  { factor: 6, hoverSlots: 0, lean: true },
  { factor: 12, hoverSlots: 0, lean: true },
  { factor: 24, hoverSlots: 0, lean: true },
  { factor: 48, hoverSlots: 0, lean: true },
];

/** True when an uplink has any figure in the window (one without is a single line, not three empty charts). */
function hasData(u: HistoryDoc['uplinks'][string]): boolean {
  return SERIES.some((s) => u.series[s].length > 0);
}

/** Uplinks that get charts: the page budget is shared among these only. */
export function chartedUplinks(doc: HistoryDoc): number {
  return Object.values(doc.uplinks).filter(hasData).length;
}

/** Index of the first resolution worth rendering for `n` charted uplinks (finer ones never fit; saves renders). */
export function firstResolution(n: number): number {
  return n <= 2 ? 0 : n <= 4 ? 1 : n <= 6 ? 2 : 3;
}

/** The document with series merged by `factor` (the JSON API keeps full resolution). */
export function fitForPage(doc: HistoryDoc, factor: number): HistoryDoc {
  if (factor === 1) return doc;
  const uplinks = Object.fromEntries(
    Object.entries(doc.uplinks).map(([name, u]) => [
      name,
      { ...u, series: Object.fromEntries(SERIES.map((s) => [s, coarsen(u.series[s], doc.sinceMs, doc.bucketMs, factor)])) as Record<SeriesName, Bucket[]> },
    ]),
  );
  return { ...doc, uplinks, bucketMs: doc.bucketMs * factor };
}

/** Events listed under the charts (newest first); older ones are in /v1/history and `linkward history`. */
const EVENTS_LISTED = 15;

const COLOUR = {
  down: '#1f6fd1',
  up: '#8e44ad',
  idle: '#1f6fd1',
  loaded: '#d35400',
  loss: '#c62828',
  failover: '#1d2330',
  node: '#8e44ad',
  backlog: '#b26a00',
};

/**
 * Local time of day ("14:05") and the zone's short name, in the device's time zone. The formatters are built on the
 * first page render, not at import: a DateTimeFormat loads ICU's locale and zone data, 6.3-6.5 MiB of
 * resident memory the daemon would otherwise carry while nobody opens the page (issue 14, bench:footprint --bundle).
 */
let TIME: Intl.DateTimeFormat | null = null;
let ZONE: Intl.DateTimeFormat | null = null;
function time(ms: number): string {
  TIME ??= new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit' });
  return TIME.format(ms);
}
function zoneName(ms: number): string {
  ZONE ??= new Intl.DateTimeFormat('en-GB', { timeZoneName: 'short' });
  return ZONE.formatToParts(ms).find((p) => p.type === 'timeZoneName')?.value ?? 'local time';
}

/** "3.1–48.3, last 47.1 at 13:05" for a caption (readable without hover, on phones and with scripts off). */
function summary(b: readonly Bucket[], unit: string): string {
  if (b.length === 0) return 'no data';
  const last = b.at(-1) as Bucket;
  const lo = Math.min(...b.map((x) => x.min));
  const hi = Math.max(...b.map((x) => x.max));
  const u = unit ? ` ${unit}` : '';
  return `${lo === hi ? fig(lo) : `${fig(lo)}–${fig(hi)}`}${u}, last ${fig(last.avg)} at ${time(last.t)}`;
}

function uplinkMarkers(doc: HistoryDoc, name: string): Marker[] {
  return [
    ...doc.transitions
      .filter((t) => t.uplink === name)
      .map(
        (t): Marker => ({
          atMs: t.atMs,
          kind: 'state',
          colour: STATE_COLOUR[t.to] ?? '#8a9bbd',
          text: `${time(t.atMs)} ${name}: ${t.from} → ${t.to}${t.reasons.length ? ` (${t.reasons.join(', ')})` : ''}`,
        }),
      ),
    ...doc.failovers
      .filter((f) => f.to === name || f.from === name)
      .map(
        (f): Marker => ({
          atMs: f.atMs,
          kind: 'failover',
          colour: COLOUR.failover,
          text: `${time(f.atMs)} switched ${f.from ?? '—'} → ${f.to} (${f.reason}, ${f.result})`,
        }),
      ),
    ...doc.nodeActions.map((a): Marker => ({ atMs: a.atMs, kind: 'node', colour: COLOUR.node, text: `${time(a.atMs)} node: ${a.summary}` })),
  ];
}

/** How a section is drawn: charts at a resolution (marker titles in every chart or, lean, the first), or captions only. */
type Draw = { charts: false } | { charts: true; lean: boolean };

function chartBlock(id: string, caption: string, f: Frame, lines: Line[], markers: Marker[], unit: string, draw: Draw): string {
  const max = niceMax(Math.max(0, ...lines.flatMap((l) => l.buckets.map((b) => b.max))));
  if (!draw.charts) return `<div class="cap">${caption}</div>`;
  const label = draw.lean ? `${lines.map((l) => l.name).join(', ')} chart, scale 0–${fig(max)} ${unit}` : caption.replace(/<[^>]+>/g, '');
  return `<div class="cap">${caption} <span class="muted">(scale 0–${fig(max)} ${esc(unit)})</span></div>${chartSvg(id, f, lines, max, markers, label, draw.lean)}`;
}

function key(colour: string, text: string): string {
  return `<b style="color:${colour}">■</b> ${esc(text)}`;
}

/** `full`: the uncoarsened document, whose 5-min buckets give the captions their exact range and time of the last value. */
function uplinkBlock(doc: HistoryDoc, full: HistoryDoc, f: Frame, name: string, current: string, draw: Draw, knownFromMs: number): string {
  const u = doc.uplinks[name];
  if (!u) return '';
  if (!hasData(u))
    return `<p class="hist muted" id="hist-${esc(name)}" data-uplink="${esc(name)}"><strong>${esc(name)}</strong>: no measurements in this period.</p>`;
  const s = u.series;
  const c = (full.uplinks[name] ?? u).series;
  const mk = uplinkMarkers(doc, name);
  const n = esc(name);
  const speed = chartBlock(
    `chart-${name}-speed`,
    `${key(COLOUR.down, `download ${summary(c.downloadMbps, 'Mbit/s')}`)} · ${key(COLOUR.up, `upload ${summary(c.uploadMbps, 'Mbit/s')}`)}`,
    f,
    [
      { name: 'download', buckets: s.downloadMbps, colour: COLOUR.down, style: 'dots', unit: 'Mbit/s' },
      { name: 'upload', buckets: s.uploadMbps, colour: COLOUR.up, style: 'dots', unit: 'Mbit/s' },
    ],
    mk,
    'Mbit/s',
    draw,
  );
  const delay = chartBlock(
    `chart-${name}-delay`,
    `${key(COLOUR.idle, `delay ${summary(c.rttMs, 'ms')}`)} · ${key(COLOUR.loaded, `under load ${summary(c.loadedRttMs, 'ms')}`)}`,
    f,
    [
      { name: 'delay', buckets: s.rttMs, colour: COLOUR.idle, style: 'band', unit: 'ms' },
      { name: 'under load', buckets: s.loadedRttMs, colour: COLOUR.loaded, style: 'dots', unit: 'ms' },
    ],
    mk,
    'ms',
    draw,
  );
  const loss = chartBlock(
    `chart-${name}-loss`,
    key(COLOUR.loss, `lost data ${summary(c.lossPercent, '%')}`),
    f,
    [{ name: 'lost', buckets: s.lossPercent, colour: COLOUR.loss, style: 'line', unit: '%' }],
    mk,
    '%',
    draw,
  );
  const uplinkTransitions = doc.transitions.filter((t) => t.uplink === name);
  return `<section class="hist" id="hist-${n}" data-uplink="${n}"><h3>${n}</h3><div class="cap">state</div>${stateStrip(`strip-${name}`, f, uplinkTransitions, current, knownFromMs)}${speed}${delay}${loss}${timeAxis(f)}</section>`;
}

/** Backlog of telemetry: records waiting (peak per bucket) and the oldest one's age in minutes. */
function bufferBlock(doc: HistoryDoc, f: Frame, draw: Draw): string {
  if (doc.buffer.length === 0) return '';
  const records: Bucket[] = doc.buffer.map((b) => ({ t: b.t, min: b.records, avg: b.records, max: b.records, n: 1 }));
  const ages: Bucket[] = doc.buffer
    .filter((b) => b.oldestAgeS !== null)
    .map((b) => ({ t: b.t, min: (b.oldestAgeS as number) / 60, avg: (b.oldestAgeS as number) / 60, max: (b.oldestAgeS as number) / 60, n: 1 }));
  const failing = doc.buffer.filter((b) => b.sinkFailing).length;
  const mk: Marker[] = doc.failovers.map((x) => ({
    atMs: x.atMs,
    kind: 'failover',
    colour: COLOUR.failover,
    text: `${time(x.atMs)} switched ${x.from ?? '—'} → ${x.to}`,
  }));
  return `<section class="hist" id="hist-buffer"><h3>Data waiting to be sent</h3>${failing > 0 ? `<div class="muted">the receiving server refused or did not answer during ${failing} of ${doc.buffer.length} sampled periods</div>` : ''}${chartBlock('chart-buffer-records', key(COLOUR.backlog, `records waiting ${summary(records, '')}`), f, [{ name: 'waiting', buckets: records, colour: COLOUR.backlog, style: 'line', unit: 'records' }], mk, 'records', draw)}${chartBlock('chart-buffer-age', key(COLOUR.loss, `oldest waiting ${summary(ages, 'min')}`), f, [{ name: 'oldest', buckets: ages, colour: COLOUR.loss, style: 'line', unit: 'min' }], mk, 'min', draw)}${timeAxis(f)}</section>`;
}

/** A window whose first record is later than this many buckets after its start is a short history (agent started since). */
const SHORT_HISTORY_BUCKETS = 3;

/** Start of what the document knows: its window's start, the first record of any kind when that comes clearly later, or its end when it holds none. */
function knownFrom(doc: HistoryDoc): number {
  const firsts = [
    ...Object.values(doc.uplinks).flatMap((u) => SERIES.map((s) => u.series[s][0]?.t ?? Number.POSITIVE_INFINITY)),
    doc.transitions[0]?.atMs ?? Number.POSITIVE_INFINITY,
    doc.failovers[0]?.atMs ?? Number.POSITIVE_INFINITY,
    doc.buffer[0]?.t ?? Number.POSITIVE_INFINITY,
  ];
  const first = Math.min(...firsts, ...doc.transitions.map((t) => t.atMs));
  if (!Number.isFinite(first)) return doc.untilMs;
  return first > doc.sinceMs + SHORT_HISTORY_BUCKETS * doc.bucketMs ? first : doc.sinceMs;
}

/** The newest events of all kinds, as a list anyone can read (no chart, no hover needed). */
function eventsList(doc: HistoryDoc): string {
  const rows = [
    ...doc.transitions.map((t) => ({
      atMs: t.atMs,
      kind: 'state',
      text: `${t.uplink ?? 'whole site'}: ${t.from} → ${t.to}${t.reasons.length ? ` (${t.reasons.join(', ')})` : ''}`,
    })),
    ...doc.failovers.map((x) => ({ atMs: x.atMs, kind: 'failover', text: `switched connection ${x.from ?? '—'} → ${x.to} (${x.reason}, ${x.result})` })),
    ...doc.nodeActions.map((a) => ({ atMs: a.atMs, kind: 'node', text: `Kubernetes node: ${a.summary}` })),
  ].sort((a, b) => b.atMs - a.atMs);
  if (rows.length === 0) return '<p class="muted" id="events">Nothing changed in this period.</p>';
  const shown = rows.slice(0, EVENTS_LISTED);
  const more = rows.length > shown.length ? `<p class="muted">${rows.length - shown.length} older events: <code>linkward history</code></p>` : '';
  return `<table id="events"><tr><th>time</th><th>what happened</th></tr>${shown.map((r) => `<tr data-kind="${r.kind}"><td>${esc(time(r.atMs))}</td><td>${esc(r.text)}</td></tr>`).join('')}</table>${more}`;
}

/**
 * The section; `current` gives each uplink's (and the site's) present state for a window without transitions. It
 * takes the finest resolution whose HTML fits `budgetBytes` (what the rest of the page leaves of the 60 KB), so any
 * number of uplinks fits; when even the coarsest charts do not, the uplinks keep their state strips and figures in
 * words, and the charts are left to `linkward history` and /v1/history.
 */
export function historySection(full: HistoryDoc, current: { node: string; uplinks: Record<string, string> }, budgetBytes = PAGE_BUDGET_BYTES): string {
  for (let i = firstResolution(chartedUplinks(full)); i < RESOLUTIONS.length; i++) {
    const r = RESOLUTIONS[i] as PageResolution;
    const html = renderSection(fitForPage(full, r.factor), full, current, r.hoverSlots, { charts: true, lean: r.lean });
    if (Buffer.byteLength(html) <= budgetBytes) return html;
  }
  const last = RESOLUTIONS.at(-1) as PageResolution;
  return renderSection(fitForPage(full, last.factor), full, current, last.hoverSlots, { charts: false });
}

function renderSection(doc: HistoryDoc, full: HistoryDoc, current: { node: string; uplinks: Record<string, string> }, hoverSlots: number, draw: Draw): string {
  const f = frameOf(doc, time, hoverSlots);
  const hours = Math.round((doc.untilMs - doc.sinceMs) / 3_600_000);
  const known = knownFrom(full);
  const site = stateStrip(
    'strip-site',
    f,
    doc.transitions.filter((t) => t.uplink === null),
    current.node,
    known,
  );
  const blocks = Object.keys(doc.uplinks)
    .map((name) => uplinkBlock(doc, full, f, name, current.uplinks[name] ?? 'unknown', draw, known))
    .join('');
  const slotMin = hoverSlots > 0 ? Math.round((doc.untilMs - doc.sinceMs) / hoverSlots / 60_000) : 0;
  const per = slotMin === 60 ? 'hourly figures' : slotMin % 60 === 0 ? `figures per ${slotMin / 60} hours` : `figures per ${slotMin} min`;
  const many = `${Object.keys(doc.uplinks).length} connections`;
  const hint = !draw.charts
    ? `charts left out to keep this page light for ${many}: <code>linkward history</code>`
    : hoverSlots > 0
      ? `hover a chart for ${per}`
      : `coarse charts for ${many}; figures per hour: <code>linkward history</code>`;
  return `<h2 id="history">Last ${hours} hours <span class="muted">(times in ${esc(zoneName(doc.untilMs))}; ${hint})</span></h2>
<div class="hist" id="hist-site"><div class="cap">whole site: ${['healthy', 'degraded', 'down'].map((s) => key(STATE_COLOUR[s] as string, s)).join(' ')} · markers: ${key(COLOUR.failover, 'connection switched')} ${key(COLOUR.node, 'Kubernetes node changed')}</div>${site}${timeAxis(f)}</div>
${blocks}${bufferBlock(doc, f, draw)}<h3>What happened</h3>${eventsList(doc)}`;
}

/** CSS of the section (appended to the page's style). */
export const HISTORY_STYLE = `
.hist{background:#fff;border:1px solid #d9dce4;border-radius:10px;padding:.6rem .8rem;margin:.6rem 0}
.cap{font-size:.85rem;margin:.35rem 0 .1rem}.cap b{font-size:.8rem}
.chart{display:block;width:100%;height:70px;background:#fafbfc;border:1px solid #eceef3}.strip{display:block;width:100%;height:12px}
.chart path{fill:none;vector-effect:non-scaling-stroke;stroke-width:1.5}.chart path.band{stroke:none}.chart path.thin{stroke-width:1;stroke-dasharray:3 3}
.chart path.dot{stroke-width:6;stroke-linecap:round}.chart path.mk{stroke-width:2;opacity:.75}.chart path.failover{stroke-dasharray:4 2}.chart path.node{stroke-dasharray:1 2}
.hv rect{fill:transparent}.hv rect:hover{fill:#1d233012}
.axis{position:relative;height:1.2em;font-size:.75rem;color:#5c6370}.axis span{position:absolute;top:0;transform:translateX(-50%);white-space:nowrap}.axis span.now{left:auto;right:0;transform:none}
.chart path.lone{stroke-width:4}
#events td:first-child{white-space:nowrap;color:#5c6370}
`;
