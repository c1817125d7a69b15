/** The chart blocks of the history section: one per uplink (state strip, speed, delay, loss, with event markers) and the telemetry backlog. */
import type { Bucket } from './downsample.ts';
import type { HistoryDoc } from './query.ts';
import { esc, fig, type Frame, niceMax } from './chart-frame.ts';
import { chartSvg, type Line, type Marker } from './chart-svg.ts';
import { STATE_COLOUR, stateStrip } from './state-strip.ts';
import { timeAxis } from './time-axis.ts';
import { hasData } from './page-resolution.ts';
import { key, summary, time } from './section-text.ts';

/** Colours of the series and markers. */
export const COLOUR = {
  down: '#1f6fd1',
  up: '#8e44ad',
  idle: '#1f6fd1',
  loaded: '#d35400',
  loss: '#c62828',
  failover: '#1d2330',
  node: '#8e44ad',
  backlog: '#b26a00',
};

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
export type Draw = { charts: false } | { charts: true; lean: boolean };

function chartBlock(id: string, caption: string, f: Frame, lines: Line[], markers: Marker[], unit: string, draw: Draw): string {
  const max = niceMax(Math.max(0, ...lines.flatMap((l) => l.buckets.map((b) => b.max))));
  if (!draw.charts) return `<div class="cap">${caption}</div>`;
  const label = draw.lean ? `${lines.map((l) => l.name).join(', ')} chart, scale 0–${fig(max)} ${unit}` : caption.replace(/<[^>]+>/g, '');
  return `<div class="cap">${caption} <span class="muted">(scale 0–${fig(max)} ${esc(unit)})</span></div>${chartSvg(id, f, lines, max, markers, label, draw.lean)}`;
}

/** `full`: the uncoarsened document, whose 5-min buckets give the captions their exact range and time of the last value. */
export function uplinkBlock(doc: HistoryDoc, full: HistoryDoc, f: Frame, name: string, current: string, draw: Draw, knownFromMs: number): string {
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
export function bufferBlock(doc: HistoryDoc, f: Frame, draw: Draw): string {
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
