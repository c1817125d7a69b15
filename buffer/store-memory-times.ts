/** Clock rebase on the in-memory store's records: slices by id, shifts applied in order, clamps (as SqliteStore's SQL). */
import type { ClampResult, StoredRecord, TimeShift } from './types.ts';

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
