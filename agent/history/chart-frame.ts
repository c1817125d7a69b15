/** The frame every status-page chart is drawn in: the window mapped onto a fixed viewBox, the axis top, and the SVG text helpers. */
import type { HistoryDoc } from './query.ts';

/** ViewBox width: one unit per 5-minute bucket of a 24 h window; the SVG is stretched to the page width. */
export const VIEW_W = 288;
/** ViewBox height of a chart (the CSS sets the drawn height; strokes do not scale). */
export const VIEW_H = 100;
/** Hover slots per chart: 24 = one per hour over 24 h. Each carries a `<title>` (shown without JavaScript); 48 weighed 4 KB more per chart and broke the 60 KB page budget. */
export const HOVER_SLOTS = 24;

/** Escapes text for HTML and SVG (element text and attribute values). */
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

export function xOf(f: Frame, t: number): number {
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

export function yOf(v: number, max: number): number {
  return Math.round(VIEW_H - 2 - (Math.min(v, max) / max) * (VIEW_H - 6));
}
