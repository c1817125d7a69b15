/** Reads of the SQLite store: lane counts at open, a lane's oldest record, the unsealed slice a batch is cut from, listings. */
import type { Database as Db } from 'better-sqlite3';
import type { LaneCounters } from './lanes.ts';
import { toRecord, type Row } from './sqlite-rows.ts';
import type { StoreStatements } from './sqlite-sql.ts';
import type { StoredRecord, UnsealedQuery } from './types.ts';

/** Adds the stored records of every lane to `lanes` (once, at open: the counters are kept in memory from then on). */
export function countLanes(db: Db, lanes: LaneCounters): void {
  for (const r of db.prepare('SELECT sink, priority, COUNT(*) AS n, SUM(size) AS b FROM buf_records GROUP BY sink, priority').all() as Row[]) {
    lanes.add(String(r.sink), Number(r.priority), Number(r.n), Number(r.b));
  }
}

/** Created time of a lane's oldest record, loose or sealed (null: none). */
export function laneOldestMs(s: StoreStatements, sink: string, priority: number): number | null {
  const o = s.oldest.get({ sink, priority }) as Row | undefined;
  return o && o.created_ms !== null ? Number(o.created_ms) : null;
}

/** Oldest not-yet-sealed records of a lane, within the query's limits (at least one when any exists). */
export function unsealedRows(s: StoreStatements, q: UnsealedQuery): StoredRecord[] {
  // Sizes first, so a lane of large bodies never loads more than maxBytes into memory.
  const args = [q.sink, q.priority, q.minCreatedMs ?? 0] as const;
  let n = 0;
  let bytes = 0;
  for (const r of s.unsealedSizes.all(...args, q.maxRecords) as Row[]) {
    if (n > 0 && bytes + Number(r.size) > q.maxBytes) break;
    bytes += Number(r.size);
    n += 1;
  }
  return n === 0 ? [] : (s.unsealed.all(...args, n) as Row[]).map(toRecord);
}

/** Records in id order (of one sink, or all), at most `limit`. */
export function listRecordRows(s: StoreStatements, sink: string | null, limit: number): StoredRecord[] {
  const rows = (sink === null ? s.listAll.all(limit) : s.listSink.all(sink, limit)) as Row[];
  return rows.map(toRecord);
}
