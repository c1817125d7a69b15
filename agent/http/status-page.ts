/** The local status page: one self-contained HTML document (no scripts, no external assets) rendered from the /v1/status data and the 24 h history. */
import {
  adviseLink,
  adviseTelemetry,
  backlogFrom,
  explainNote,
  explainReason,
  failedParts,
  type Backlog,
  type PageBudget,
  type PageLink,
  type PageNote,
  type PageUplink,
} from './status-advice.ts';
import { esc } from '../history/chart-frame.ts';
import { historySection, HISTORY_STYLE, PAGE_BUDGET_BYTES } from '../history/page-section.ts';
import type { HistoryDoc } from '../history/query.ts';
import { systemClock } from '../base/clock.ts';

/** Seconds between automatic refreshes of the page (matches the default light-probe interval). */
const REFRESH_S = 5;
/** A figure younger than this is current: its age is not shown. */
const SHOW_AGE_AFTER_MS = 60_000;
const BYTES_PER_MB = 1_000_000;

const STATE_TONE: Record<string, string> = {
  ok: 'good',
  healthy: 'good',
  ready: 'good',
  degraded: 'warn',
  starting: 'wait',
  unknown: 'wait',
  down: 'bad',
  error: 'bad',
  disabled: 'off',
};
const STATE_WORD: Record<string, string> = { healthy: 'OK', degraded: 'slow', down: 'not working', unknown: 'measuring' };

function badge(state: unknown, words = false): string {
  const s = String(state ?? 'unknown');
  return `<span class="badge ${STATE_TONE[s] ?? 'wait'}">${esc(words ? (STATE_WORD[s] ?? s) : s)}</span>`;
}

function num(v: unknown, unit: string): string {
  return typeof v === 'number' && Number.isFinite(v) ? `${Math.round(v * 10) / 10} ${unit}` : '—';
}

/** "3 h 12 min" from seconds. */
function duration(s: unknown): string {
  const n = typeof s === 'number' && Number.isFinite(s) ? Math.max(0, Math.round(s)) : 0;
  const d = Math.floor(n / 86_400);
  const h = Math.floor((n % 86_400) / 3_600);
  const m = Math.floor((n % 3_600) / 60);
  if (d > 0) return h > 0 ? `${d} d ${h} h` : `${d} d`;
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
  return m > 0 ? `${m} min` : `${n} s`;
}

/** Wall-clock time in the device's time zone (the page has no script, so the server formats it). */
function clock(ms: unknown): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '—';
  return new Intl.DateTimeFormat('en-GB', {
    day: '2-digit',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZoneName: 'short',
  }).format(ms);
}

function finite(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Time of day in the device's time zone, e.g. "01:00 CET" (for the budget refill). */
function timeOfDay(ms: number): string {
  return new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', timeZoneName: 'short' }).format(ms);
}

/** A table row's value: the figure, and "measured 12 min ago" under it when it is older than a minute. */
interface Cell {
  text: string;
  /** Shown in place of the age line: the figure predates the outage (a down uplink's last speeds are not current). */
  before?: string;
  /** A smaller second line (e.g. when the budget refills). */
  sub?: string;
  atMs?: unknown;
}

function cell(c: Cell, nowMs: number): string {
  const old = finite(c.atMs) && nowMs - c.atMs > SHOW_AGE_AFTER_MS;
  const sub = c.sub ? ` <span class="sub">${esc(c.sub)}</span>` : '';
  const ago = finite(c.atMs) ? `measured ${duration((nowMs - c.atMs) / 1000)} ago` : '';
  if (c.before && finite(c.atMs)) return `${esc(c.text)}${sub} <span class="age">${esc(ago)}, ${esc(c.before)}</span>`;
  return `${esc(c.text)}${sub}${old ? ` <span class="age">${esc(ago)}</span>` : ''}`;
}

/** "at least 54.2 Mbit/s" for a lower bound (a cap ended the test), "not measured" when there is no figure. */
function speed(v: unknown, lowerBound: unknown): string {
  if (!finite(v)) return 'not measured';
  return `${lowerBound === true ? 'at least ' : ''}${num(v, 'Mbit/s')}`;
}

/** "180 ms" under "12 ms when not busy" from the last speed test, or null when it measured no delay under load. */
function loadedDelay(l: Record<string, unknown>, atMs: unknown): Cell | null {
  if (!finite(l.loadedRttMs)) return null;
  return { text: num(l.loadedRttMs, 'ms'), ...(finite(l.idleRttMs) ? { sub: `${num(l.idleRttMs, 'ms')} when not busy` } : {}), atMs };
}

/** "3.1 of 50 MB left today" / "used up for today", with when it refills; null without a budget. */
function budgetCell(b: PageBudget, nowMs: number): Cell | null {
  if (!finite(b.budgetBytes)) return null;
  const mb = (n: number): string => String(Math.round((n / BYTES_PER_MB) * 10) / 10);
  const refill = finite(b.resetAtMs) ? { sub: `refills at ${timeOfDay(b.resetAtMs)}, in ${duration((b.resetAtMs - nowMs) / 1000)}` } : {};
  if (b.spent === true) return { text: 'used up for today', ...refill };
  return { text: `${finite(b.remainingBytes) ? mb(b.remainingBytes) : '?'} of ${mb(b.budgetBytes)} MB left today`, ...refill };
}

/** The notes box: what is wrong with the measurements (targets, servers, budget, this device), never with the link. */
function notesBox(name: string, notes: PageNote[], budget: PageBudget | undefined, _nowMs: number): string {
  if (notes.length === 0) return '';
  const reset = budget && finite(budget.resetAtMs) ? timeOfDay(budget.resetAtMs) : undefined;
  const items = notes
    .map((n) => {
      const since = finite(n.sinceMs) ? ` (since ${clock(n.sinceMs)})` : '';
      return `<li>${esc(explainNote(n.code, n.message, reset))}<br><span class="muted">For support: ${esc(n.message ?? n.code)}${esc(since)}</span></li>`;
    })
    .join('');
  return `<aside class="notes" id="notes-${esc(name)}" role="note"><strong>About the measurements</strong> <span class="muted">(not about the connection)</span><ul>${items}</ul></aside>`;
}

function uplinkCard(name: string, u: PageUplink, active: boolean, nowMs: number): string {
  const l = u.latest ?? {};
  const at = u.measuredAtMs ?? {};
  const carrier = l.carrier === false ? 'disconnected' : l.carrier === true ? 'connected' : '—';
  const loaded = loadedDelay(l, at.loadedRttMs ?? at.idleRttMs);
  const budget = u.budget ? budgetCell(u.budget, nowMs) : null;
  // A down uplink's speeds were measured before it stopped: say so, with their age, instead of showing them as current.
  const stale = (atMs: unknown): Partial<Cell> =>
    u.health === 'down' && finite(atMs) && finite(u.sinceMs) && atMs < u.sinceMs ? { before: 'before the connection stopped' } : {};
  const rows: [string, Cell][] = [
    ['Download speed', { text: speed(l.downloadMbps, l.downloadLowerBound), atMs: at.downloadMbps, ...stale(at.downloadMbps) }],
    ['Upload speed', { text: speed(l.uploadMbps, l.uploadLowerBound), atMs: at.uploadMbps, ...stale(at.uploadMbps) }],
    ['Delay (ping)', { text: num(l.rttMs, 'ms'), atMs: at.rttMs }],
    ...(loaded === null ? [] : ([['Delay under load', loaded]] as [string, Cell][])),
    ['Delay variation', { text: num(l.jitterMs, 'ms'), atMs: at.jitterMs }],
    ['Lost data', { text: num(l.lossPercent, '%'), atMs: at.lossPercent }],
    ['Cable / modem', { text: carrier }],
    ...(budget === null ? [] : ([['Speed-test data', budget]] as [string, Cell][])),
  ];
  const why = (u.reasons ?? []).map((r) => `<li>${esc(explainReason(r))}</li>`).join('');
  return `<article class="uplink" data-uplink="${esc(name)}" data-state="${esc(u.health ?? 'unknown')}">
<h3>${esc(name)} ${badge(u.health, true)}${active ? ' <span class="tag">in use</span>' : ''}</h3>
<dl>${rows.map(([k, v]) => `<dt>${k}</dt><dd>${cell(v, nowMs)}</dd>`).join('')}</dl>
${why ? `<div class="why">Why: <ul>${why}</ul></div>` : ''}${notesBox(name, Array.isArray(u.notes) ? u.notes : [], u.budget, nowMs)}<div class="muted">since ${esc(clock(u.sinceMs))}</div></article>`;
}

const STYLE = `
*{box-sizing:border-box}body{font:16px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2330;background:#f3f4f7}
main{max-width:980px;margin:0 auto;padding:1rem}
.banner{border-radius:12px;padding:1.2rem 1.4rem;margin:.5rem 0 1rem;display:flex;gap:1.2rem;align-items:flex-start;border:2px solid}
.banner .icon{font-size:3rem;line-height:1;font-weight:700;width:4.2rem;height:4.2rem;border-radius:50%;display:flex;align-items:center;justify-content:center;color:#fff;flex:none}
.banner h1{font-size:2.1rem;margin:0 0 .3rem;line-height:1.15}.banner p{margin:.2rem 0 .6rem;font-size:1.1rem}
.banner.good{background:#e3f7e8;border-color:#2e9e52}.banner.good .icon{background:#2e9e52}
.banner.warn{background:#fff4d6;border-color:#d49a00}.banner.warn .icon{background:#c48a00}
.banner.bad{background:#fde3e3;border-color:#c62828}.banner.bad .icon{background:#c62828}
.banner.wait{background:#e8eef8;border-color:#5b7bb5}.banner.wait .icon{background:#5b7bb5}
.todo{margin:.2rem 0 0;padding-left:1.4rem;font-size:1.05rem}.todo li{margin:.15rem 0}
h2{font-size:1.15rem;margin:1.4rem 0 .5rem}h3{font-size:1.05rem;margin:0 0 .5rem}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(280px,1fr));gap:.8rem}
.uplink,.notice,details{background:#fff;border:1px solid #d9dce4;border-radius:10px;padding:.9rem 1rem}
details{margin-top:1rem}summary{cursor:pointer}
.notice{border-color:#c62828;background:#fff6f6;margin:0 0 1rem}.notice.calm{border-color:#5b7bb5;background:#eef3fb}
.backlog{background:#fff;border:1px solid #d9dce4;border-radius:10px;padding:.6rem 1rem}.backlog.warn{border-color:#d49a00;background:#fff8e6}
dl{display:grid;grid-template-columns:auto 1fr;gap:.15rem .8rem;margin:0 0 .4rem}dt{color:#555}dd{margin:0;font-weight:600}
.why ul{margin:.2rem 0;padding-left:1.2rem}.why{font-size:.92rem}
.age,.sub{display:block;font-weight:400;color:#5c6370;font-size:.85rem}
.notes{display:block;margin:.5rem 0;padding:.6rem .8rem;border:1px dashed #5b7bb5;border-radius:8px;background:#eef3fb;font-size:.92rem}
.notes ul{margin:.3rem 0 0;padding-left:1.2rem}.notes li{margin:.25rem 0}
.badge{display:inline-block;padding:.1rem .6rem;border-radius:999px;font-weight:600;font-size:.85rem;vertical-align:middle}
.good{background:#d8f5e0;color:#11612d}.warn{background:#fff1c9;color:#7a5800}.bad{background:#fcd9d9;color:#8a1212}.wait{background:#e3e9f5;color:#2f4a7d}.off{background:#e8e8ee;color:#555}
.tag{font-size:.8rem;border:1px solid #889;border-radius:4px;padding:0 .35rem;color:#445}
.muted{color:#5c6370;font-size:.9rem}table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #eef;vertical-align:top}
footer{margin:1.2rem 0;color:#5c6370;font-size:.9rem}code{font:.9rem ui-monospace,monospace;background:#eceef3;padding:.05rem .3rem;border-radius:4px}
`;

/** True when the recorded backlog rose over the last three samples (telemetry piling up, not draining). */
function backlogGrowing(history: HistoryDoc | undefined): boolean {
  const last = history?.buffer.slice(-3) ?? [];
  return last.length === 3 && (last[0]?.records ?? 0) < (last[1]?.records ?? 0) && (last[1]?.records ?? 0) < (last[2]?.records ?? 0);
}

/** "Data waiting to be sent": how much, how old, whether the server takes it. */
function backlogBox(b: Backlog): string {
  const body =
    b.records === 0
      ? 'none — everything has been delivered.'
      : `${b.records} records (${b.bytes < BYTES_PER_MB ? `${Math.max(1, Math.round(b.bytes / 1_000))} KB` : `${Math.round((b.bytes / BYTES_PER_MB) * 10) / 10} MB`}), the oldest waiting for ${duration(b.oldestAgeS ?? 0)}${b.sinkFailing ? '; the receiving server refuses or does not answer at the moment' : ''}. Kept safely on this device until sent.`;
  return `<p class="backlog ${b.stuck ? 'warn' : ''}" id="backlog"><strong>Data waiting to be sent:</strong> ${esc(body)}</p>`;
}

/** Parts of linkward in trouble. While the link is down most of them are waiting for it: no "call support" against the banner's "wait". */
function agentProblem(broken: string[], linkState: string): string {
  if (broken.length === 0) return '';
  const items = `<ul>${broken.map((b) => `<li>${esc(b)}</li>`).join('')}</ul>`;
  if (linkState === 'down') {
    return `<section class="notice calm" id="agent-problem" role="note"><strong>Some parts of linkward are waiting for the connection too.</strong> Nothing extra to do: follow the steps above. They carry on by themselves when the connection is back.${items}</section>`;
  }
  return `<section class="notice" id="agent-problem" role="alert"><strong>Part of linkward is not working.</strong> The connection status above may be incomplete: call support and read them the reference at the bottom of this page.${items}</section>`;
}

/**
 * Renders the page from a status document as produced by the daemon's status(). Figure ages are taken against
 * `nowMs`, else the document's own `nowMs` (the daemon's clock), else the system clock.
 */
export function renderStatusPage(status: Record<string, unknown>, nowMs?: number, history?: HistoryDoc): string {
  const now = nowMs ?? (finite(status.nowMs) ? status.nowMs : systemClock.nowMs());
  const components = (status.components ?? {}) as Record<string, { state?: string; message?: string; details?: Record<string, unknown> }>;
  const link = (status.link ?? null) as PageLink | null;
  const uptimeS = typeof status.uptimeSeconds === 'number' ? status.uptimeSeconds : 0;
  const backlog = backlogFrom(components.buffer, backlogGrowing(history));
  const advice = adviseTelemetry(adviseLink(link, uptimeS), backlog, duration);
  const uplinks = Object.entries(link?.uplinks ?? {});
  const broken = failedParts(components);
  const notReady = Array.isArray(status.notReadyReasons) ? (status.notReadyReasons as unknown[]).map(String) : [];
  const activeView = link?.active ? link.uplinks?.[link.active] : undefined;
  const reference = `${status.node ?? '?'} · ${advice.state}${activeView ? ` since ${clock(activeView.sinceMs)}` : ''} · linkward ${status.version ?? '?'}`;
  const componentRows = Object.entries(components)
    .map(([name, c]) => `<tr><td>${esc(name)}</td><td>${badge(c.state)}</td><td>${esc(c.message)}</td></tr>`)
    .join('');
  const current = { node: link?.node ?? 'unknown', uplinks: Object.fromEntries(uplinks.map(([n, u]) => [n, u.health ?? 'unknown'])) };
  const page = (historyHtml: string): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="refresh" content="${REFRESH_S}"><title>${esc(advice.headline)} — ${esc(status.node)}</title>
<style>${STYLE}${HISTORY_STYLE}</style></head><body><main>
<div class="muted">linkward on <strong>${esc(status.node)}</strong> — network status of this site</div>
<section class="banner ${advice.tone}" id="verdict" role="status" data-state="${esc(advice.state)}">
<div class="icon" aria-hidden="true">${advice.icon}</div>
<div><h1>${esc(advice.headline)}</h1><p>${esc(advice.meaning)}</p>
<strong>What to do:</strong><ol class="todo" id="todo">${advice.todo.map((t) => `<li>${esc(t)}</li>`).join('')}</ol></div></section>
${agentProblem(broken, advice.state)}
<h2>Connections${link?.active ? ` <span class="muted">— in use: <strong>${esc(link.active)}</strong></span>` : ''}</h2>
<div class="grid" id="uplinks">${uplinks.map(([name, u]) => uplinkCard(name, u, link?.active === name, now)).join('') || '<div class="muted">No connection measured yet.</div>'}</div>
${backlog ? backlogBox(backlog) : ''}
${historyHtml}
<details id="technical"><summary>Technical details (for support)</summary>
<p class="muted">Ready: ${status.ready === true ? 'yes' : `no — ${esc(notReady.join('; '))}`} · last measurement ${esc(clock(link?.atMs))} · config ${esc(describeSource(status.config))} · state ${esc(status.stateDir)} · pid ${esc(status.pid)}</p>
<table><tr><th>part</th><th>state</th><th>detail</th></tr>${componentRows}</table></details>
<footer>Reference for support: <code id="reference">${esc(reference)}</code><br>
linkward ${esc(status.version)} · running for ${esc(duration(uptimeS))} · this page refreshes every ${REFRESH_S} s</footer>
</main></body></html>`;
  if (!history) return page('');
  // The charts get what the rest of the page leaves of the budget (the rest grows with the uplink cards too).
  return page(historySection(history, current, PAGE_BUDGET_BYTES - Buffer.byteLength(page(''))));
}

function describeSource(source: unknown): string {
  const s = source as { kind?: string; path?: string } | null;
  return s?.kind === 'file' ? String(s.path) : 'built-in defaults';
}
