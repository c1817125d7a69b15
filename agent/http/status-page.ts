/** The local status page: one self-contained HTML document rendered from the /v1/status data (no scripts). */

/** Seconds between automatic refreshes of the page (matches the default light-probe interval). */
const REFRESH_S = 5;

function esc(v: unknown): string {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

const STATE_CLASS: Record<string, string> = { ok: 'good', healthy: 'good', ready: 'good', degraded: 'warn', starting: 'warn', unknown: 'warn', down: 'bad', error: 'bad', disabled: 'off' };

function badge(state: unknown): string {
  const s = String(state ?? 'unknown');
  return `<span class="badge ${STATE_CLASS[s] ?? 'warn'}">${esc(s)}</span>`;
}

function fmt(v: unknown, unit: string): string {
  return typeof v === 'number' && Number.isFinite(v) ? `${Math.round(v * 10) / 10} ${unit}` : '—';
}

/** Renders the page from a status document as produced by the daemon's status(). */
export function renderStatusPage(status: Record<string, unknown>): string {
  const components = (status.components ?? {}) as Record<string, { state?: string; message?: string }>;
  const link = (status.link ?? null) as { node?: string; active?: string | null; uplinks?: Record<string, { health?: string; reasons?: string[]; latest?: Record<string, unknown> }> } | null;
  const uplinkRows = Object.entries(link?.uplinks ?? {})
    .map(([name, u]) => {
      const l = u.latest ?? {};
      return `<tr><td>${esc(name)}${link?.active === name ? ' <small>(active)</small>' : ''}</td><td>${badge(u.health)}</td><td>${fmt(l.downloadMbps, 'Mbit/s')}</td><td>${fmt(l.uploadMbps, 'Mbit/s')}</td><td>${fmt(l.rttMs, 'ms')}</td><td>${fmt(l.jitterMs, 'ms')}</td><td>${fmt(l.lossPercent, '%')}</td><td>${esc((u.reasons ?? []).join(', '))}</td></tr>`;
    })
    .join('');
  const componentRows = Object.entries(components)
    .map(([name, c]) => `<tr><td>${esc(name)}</td><td>${badge(c.state)}</td><td>${esc(c.message)}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="refresh" content="${REFRESH_S}"><title>linkward — ${esc(status.node)}</title>
<style>
body{font:15px/1.4 system-ui,sans-serif;margin:1.5rem;color:#1d2330;background:#f6f7f9}
h1{font-size:1.4rem;margin:0 0 .2rem}small,.muted{color:#667}
section{background:#fff;border:1px solid #dde;border-radius:8px;padding:1rem;margin:1rem 0}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #eef}
.badge{display:inline-block;padding:.1rem .55rem;border-radius:999px;font-weight:600;font-size:.85rem}
.good{background:#d8f5e0;color:#11612d}.warn{background:#fff1c9;color:#7a5800}.bad{background:#fcd9d9;color:#8a1212}.off{background:#e8e8ee;color:#555}
.big{font-size:2rem;margin:.3rem 0}
</style></head><body>
<h1>linkward on ${esc(status.node)}</h1>
<div class="muted">version ${esc(status.version)} · up ${esc(status.uptimeSeconds)} s · refreshed every ${REFRESH_S} s</div>
<section><div>Link</div><div class="big">${badge(link?.node ?? 'unknown')}</div>
<div class="muted">${link ? `active uplink: ${esc(link.active ?? '—')}` : 'no measurement yet: the link is never reported healthy before the first completed probe'}</div></section>
<section><h2>Uplinks</h2><table><tr><th>uplink</th><th>state</th><th>down</th><th>up</th><th>RTT</th><th>jitter</th><th>loss</th><th>why</th></tr>${uplinkRows || '<tr><td colspan="8" class="muted">no uplink measured yet</td></tr>'}</table></section>
<section><h2>Components</h2><table><tr><th>component</th><th>state</th><th>detail</th></tr>${componentRows}</table></section>
</body></html>`;
}
