/** The colour strip of a state (an uplink's or the whole site's) over the chart window, from its transitions. */
import { esc, type Frame, VIEW_W, xOf } from './chart-frame.ts';

/** Colour of each state: in the strips, the caption keys and the state markers. */
export const STATE_COLOUR: Record<string, string> = { healthy: '#2e9e52', degraded: '#d49a00', down: '#c62828', unknown: '#8a9bbd', 'no data': '#e3e6ec' };

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
