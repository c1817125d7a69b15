/** Clock rebase on the in-memory store's records: slices by id, shifts applied in order, clamps (as SqliteStore's SQL). */
import { LwError } from '../agent/base/errors.ts';
import { BufferError } from './errors.ts';
import type { ClampResult, SealedBatch, ShiftPlan, ShiftState, StoredRecord, TimeShift } from './types.ts';

/** The highest record id present (0: none). */
export const maxRecordId = (records: readonly StoredRecord[]): number => records.reduce((m, r) => Math.max(m, r.id), 0);

/** Up to `max` records with ids in (after, last], by id, and the slice's last id (`last` once it reaches the end). */
export function idSlice(records: readonly StoredRecord[], after: number, last: number, max: number): { rows: StoredRecord[]; end: number } {
  const rows = records
    .filter((r) => r.id > after && r.id <= last)
    .sort((a, b) => a.id - b.id)
    .slice(0, max);
  return { rows, end: rows.length === max ? (rows.at(-1)?.id ?? last) : last };
}

/** Applies `shifts` in order to `rows` (created and expiry); returns the rows the last shift moved. */
export function shiftRecords(rows: readonly StoredRecord[], shifts: readonly TimeShift[]): number {
  let moved = 0;
  for (const s of shifts) {
    moved = 0;
    for (const r of rows)
      if (r.createdMs <= s.cutoffMs) {
        r.createdMs += s.deltaMs;
        if (r.expiresMs !== null) r.expiresMs += s.deltaMs;
        moved += 1;
      }
  }
  return moved;
}

/** Created times after `nowMs` become `nowMs`; expiry beyond a sink's cap becomes the cap (sinks without one keep theirs). */
export function clampRecords(rows: readonly StoredRecord[], nowMs: number, expiryCaps: ReadonlyMap<string, number>): ClampResult {
  const out: ClampResult = { created: 0, expires: 0 };
  for (const r of rows) {
    if (r.createdMs > nowMs) {
      r.createdMs = nowMs;
      out.created += 1;
    }
    const cap = expiryCaps.get(r.sink);
    if (cap !== undefined && r.expiresMs !== null && r.expiresMs > cap) {
      r.expiresMs = cap;
      out.expires += 1;
    }
  }
  return out;
}

/** The plan under way and the queued shifts of MemoryStore (Store.queueShift ... dropShift, same rules as SQLite's). */
export class MemoryShifts {
  #plan: ShiftPlan | null = null;
  #queue: TimeShift[] = [];

  queue(shift: TimeShift): void {
    this.#queue.push({ ...shift });
  }

  begin(records: readonly StoredRecord[], batches: SealedBatch[]): ShiftPlan | null {
    if (this.#plan !== null) throw new LwError(BufferError.UNAVAILABLE, 'a clock rebase is already under way: finish it before the next');
    if (this.#queue.length === 0) return null;
    const shifts = this.#queue;
    this.#queue = [];
    const lastId = maxRecordId(records);
    for (const s of shifts) for (const b of batches) if (b.createdMs <= s.cutoffMs) b.createdMs += s.deltaMs;
    const plan: ShiftPlan = { shifts, lastId, doneId: 0, moved: 0 };
    this.#plan = lastId > 0 ? plan : null;
    return this.#plan ?? { ...plan, doneId: lastId };
  }

  shiftSome(records: readonly StoredRecord[], maxRecords: number): ShiftPlan {
    const plan = this.#plan;
    if (plan === null) throw new LwError(BufferError.UNAVAILABLE, 'no clock rebase is under way (shiftSome without beginShift)');
    const slice = idSlice(records, plan.doneId, plan.lastId, maxRecords);
    const next = { ...plan, doneId: slice.end, moved: plan.moved + shiftRecords(slice.rows, plan.shifts) };
    this.#plan = slice.end >= plan.lastId ? null : next;
    return next;
  }

  state(): ShiftState {
    return { plan: this.#plan === null ? null : { ...this.#plan }, queued: [...this.#queue] };
  }

  drop(): void {
    this.#plan = null;
    this.#queue = [];
  }
}
