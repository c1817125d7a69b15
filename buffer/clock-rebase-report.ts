/** What a finished clock rebase tells: counters, one warn line per step (or for the clamp at open, or a resumed rebase). */
import type { Logger } from '../agent/base/log.ts';
import type { ClockStep } from './clock-step.ts';
import type { BufferMetrics } from './metrics.ts';
import type { ClampResult } from './types.ts';

/** The last step seen and what it did to the store (status details: `clockStep`). */
export interface ClockStepReport {
  /** Wall time (new frame) of the check that saw the step. */
  atMs: number;
  /** New minus old wall time. */
  deltaMs: number;
  /** Records moved by +delta (forward steps only). */
  shiftedRecords: number;
  /** Records whose created time was after now, set to now. */
  createdClamped: number;
  /** Records expiring after now + their sink's TTL, set to that. */
  expiryClamped: number;
}

export interface FinishedRebase {
  /** Steps seen in this run whose rebase is now done. */
  steps: readonly ClockStep[];
  /** A plan or queue found at open was part of it. */
  resumed: boolean;
  /** The clamp was the one at open (no step since). */
  atOpen: boolean;
  /** Records moved by the plans that finished. */
  shifted: number;
  /** What the clamp lowered (null: none ran). */
  clamped: ClampResult | null;
}

/** Counts and logs a finished rebase; returns the report of its last step (null: no step in this run). */
export function reportRebase(d: { log: Logger; metrics: BufferMetrics }, f: FinishedRebase): ClockStepReport | null {
  const c = f.clamped ?? { created: 0, expires: 0 };
  const m = d.metrics.rebased;
  if (f.shifted > 0) m.inc({ action: 'shifted' }, f.shifted);
  if (c.created > 0) m.inc({ action: 'created_clamped' }, c.created);
  if (c.expires > 0) m.inc({ action: 'expiry_clamped' }, c.expires);
  if (f.atOpen && c.created + c.expires > 0)
    d.log.warn(
      { createdClamped: c.created, expiryClamped: c.expires },
      'buffered records had times after the clock (clock ahead when stored, or a lowered ttlSeconds): created times capped at now, expiry at now + TTL',
    );
  if (f.resumed)
    d.log.warn({ shiftedRecords: f.shifted }, 'finished the clock rebase a stop interrupted; the records it moved count their TTL from their real ingest');
  let last: ClockStepReport | null = null;
  for (const s of f.steps) {
    last = { atMs: s.atMs, deltaMs: s.deltaMs, shiftedRecords: f.shifted, createdClamped: c.created, expiryClamped: c.expires };
    d.log.warn(
      { deltaMs: s.deltaMs, sinceCheckMs: s.sinceCheckMs, shiftedRecords: f.shifted, createdClamped: c.created, expiryClamped: c.expires },
      s.deltaMs > 0
        ? 'wall clock stepped forward; records buffered before the step moved with it, so their TTL and age count from their real ingest'
        : 'wall clock stepped backward; buffered records capped at now (created) and now + TTL (expiry)',
    );
  }
  return last;
}
