/** The "last 24 hours" part of the status page: per uplink state strip and charts, telemetry backlog, and a list of what happened (pure HTML). */
import { SERIES, type HistoryDoc } from './query.ts';
import { esc, frameOf } from './chart-frame.ts';
import { STATE_COLOUR, stateStrip } from './state-strip.ts';
import { timeAxis } from './time-axis.ts';
import { chartedUplinks, firstResolution, fitForPage, PAGE_BUDGET_BYTES, type PageResolution, RESOLUTIONS } from './page-resolution.ts';
import { COLOUR, type Draw, bufferBlock, uplinkBlock } from './section-charts.ts';
import { eventsList, key, time, zoneName } from './section-text.ts';

export { PAGE_BUDGET_BYTES, RESOLUTIONS } from './page-resolution.ts';

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
