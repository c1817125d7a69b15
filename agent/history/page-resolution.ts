/** How finely the status page charts its history: the byte budget, the resolutions to try, and the document coarsened to one. */
import { coarsen, type Bucket } from './downsample.ts';
import { SERIES, type HistoryDoc, type SeriesName } from './query.ts';
import { HOVER_SLOTS } from './chart-frame.ts';

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
export function hasData(u: HistoryDoc['uplinks'][string]): boolean {
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
