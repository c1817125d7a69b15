/** Appends of the SQLite store: a group of records inserted and counted into the lanes, or committed on the writer thread (with its fallback). */
import { isDiskFull } from './errors.ts';
import type { LaneCounters } from './lanes.ts';
import type { StoreStatements } from './sqlite-sql.ts';
import type { SqliteTx } from './sqlite-tx.ts';
import type { NewRecord } from './types.ts';
import type { WriterThread } from './writer-thread.ts';

/** Inside the caller's transaction: inserts `records` in order; returns their ids. */
export function insertRows(s: StoreStatements, records: readonly NewRecord[]): number[] {
  const insert = s.insert;
  const ids = new Array<number>(records.length);
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    ids[i] = Number(insert.run(r.sink, r.priority, r.createdMs, r.expiresMs, r.contentType, r.contentEncoding, r.body, r.body.byteLength).lastInsertRowid);
  }
  return ids;
}

/** Adds appended records to the lane counters. */
export function countAdded(lanes: LaneCounters, records: readonly NewRecord[]): void {
  for (const r of records) lanes.add(r.sink, r.priority, 1, r.body.byteLength);
}

/** Commits through the writer thread (fsync off the event loop); falls back to this connection (`local`) if the thread died. */
export async function appendViaWriter(
  tx: SqliteTx,
  lanes: LaneCounters,
  writer: WriterThread,
  records: readonly NewRecord[],
  local: (records: readonly NewRecord[]) => number[],
): Promise<number[]> {
  tx.assertOpen();
  if (writer.failed !== null) return local(records);
  let ids: number[];
  try {
    ids = await writer.append(records);
  } catch (e) {
    if (isDiskFull(e)) throw tx.diskFull(e);
    if (writer.failed !== null && !tx.closed) return local(records);
    throw e;
  }
  countAdded(lanes, records);
  await tx.addedAsync(records.length);
  return ids;
}
