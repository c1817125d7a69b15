/** Clock rebase writes of the SQLite store: stored times shifted by a wall-clock step, or clamped to now and a TTL. */
import type { StoreStatements } from './sqlite-sql.ts';
import type { ClampResult, TimeShift } from './types.ts';

/** Inside a transaction: moves records and batches created up to each step's cutoff by its delta; rows moved by the last. */
export function shiftRows(s: StoreStatements, shifts: readonly TimeShift[]): number {
  let moved = 0;
  for (const sh of shifts) {
    const args = { delta: sh.deltaMs, cutoff: sh.cutoffMs };
    moved = s.shiftRecords.run(args).changes;
    s.shiftBatches.run(args);
  }
  return moved;
}

/** Inside a transaction: created times after `nowMs` set to it, expiries beyond a sink's cap (now + TTL) set to that. */
export function clampRows(s: StoreStatements, nowMs: number, expiryCaps: ReadonlyMap<string, number>): ClampResult {
  const created = s.clampCreated.run({ now: nowMs }).changes;
  s.clampBatchCreated.run({ now: nowMs });
  let expires = 0;
  for (const [sink, cap] of expiryCaps) expires += s.clampExpires.run({ cap, sink }).changes;
  return { created, expires };
}
