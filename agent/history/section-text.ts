/** The history section's words, readable without charts: local times, caption figures, colour keys and the list of what happened. */
import type { Bucket } from './downsample.ts';
import type { HistoryDoc } from './query.ts';
import { esc, fig } from './chart-frame.ts';

/**
 * Local time of day ("14:05") and the zone's short name, in the device's time zone. The formatters are built on the
 * first page render, not at import: a DateTimeFormat loads ICU's locale and zone data, 6.3-6.5 MiB of
 * resident memory the daemon would otherwise carry while nobody opens the page (issue 14, bench:footprint --bundle).
 */
let TIME: Intl.DateTimeFormat | null = null;
let ZONE: Intl.DateTimeFormat | null = null;
export function time(ms: number): string {
  TIME ??= new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit' });
  return TIME.format(ms);
}
export function zoneName(ms: number): string {
  ZONE ??= new Intl.DateTimeFormat('en-GB', { timeZoneName: 'short' });
  return ZONE.formatToParts(ms).find((p) => p.type === 'timeZoneName')?.value ?? 'local time';
}

/** "3.1–48.3, last 47.1 at 13:05" for a caption (readable without hover, on phones and with scripts off). */
export function summary(b: readonly Bucket[], unit: string): string {
  if (b.length === 0) return 'no data';
  const last = b.at(-1) as Bucket;
  const lo = Math.min(...b.map((x) => x.min));
  const hi = Math.max(...b.map((x) => x.max));
  const u = unit ? ` ${unit}` : '';
  return `${lo === hi ? fig(lo) : `${fig(lo)}–${fig(hi)}`}${u}, last ${fig(last.avg)} at ${time(last.t)}`;
}

/** A colour square and its words, as in a chart caption. */
export function key(colour: string, text: string): string {
  return `<b style="color:${colour}">■</b> ${esc(text)}`;
}

/** Events listed under the charts (newest first); older ones are in /v1/history and `linkward history`. */
const EVENTS_LISTED = 15;

/** The newest events of all kinds, as a list anyone can read (no chart, no hover needed). */
export function eventsList(doc: HistoryDoc): string {
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
