/** What the upstream said, made fit for status and dead letters: one line, bounded; protocol-aware reasons for refusals. */
import type { SinkProtocol } from '../agent/config/buffer.ts';

/** Characters of upstream text kept: enough for Prometheus' "out of bounds" line with its series, short enough for a status line. */
export const UPSTREAM_TEXT_MAX_CHARS = 200;

/** One line: control characters (newlines, tabs, escapes) become spaces, runs of space collapse, bounded with "…". */
export function oneLine(text: string | undefined, max = UPSTREAM_TEXT_MAX_CHARS): string {
  // eslint-disable-next-line no-control-regex
  const flat = (text ?? '')
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** "HTTP 503" for an empty body, "HTTP 400: text" otherwise; "no answer: text" when the request got no status. */
export function describeOutcome(status: number | null, text: string | undefined): string {
  const t = oneLine(text);
  if (status === null) return t === '' ? 'no answer' : `no answer: ${t}`;
  return t === '' ? `HTTP ${status}` : `HTTP ${status}: ${t}`;
}

/** Prometheus TSDB refusals (remote-write receiver, Mimir/Cortex wording too), the reason given in dead letters. */
const PROM_REFUSALS: readonly [RegExp, string][] = [
  [/out of bounds|too old|outside the time window|sample timestamp too old/i, 'sample older than the upstream accepts (out of bounds)'],
  [/out of order/i, 'sample out of order for its series'],
  [/duplicate sample/i, 'duplicate sample for a timestamp with another value'],
  [/too far in the future|too new/i, 'sample timestamp in the future'],
];

/** Why a record was refused for good, worded for the protocol when it is recognised. */
export function refusalReason(protocol: SinkProtocol, status: number | null, text: string | undefined): string {
  const base = describeOutcome(status, text);
  if (status === 413) return `record too large for the upstream (${base})`;
  if (protocol === 'prometheus-remote-write' && text !== undefined) {
    for (const [re, why] of PROM_REFUSALS) if (re.test(text)) return `${why} (${base})`;
  }
  return base;
}
