/** Bulk deletes of the SQLite store (eviction, TTL expiry, purge): run inside the caller's draining transaction. */
import type { Row } from './sqlite-rows.ts';
import type { StoreStatements } from './sqlite-sql.ts';

/** Rows examined per eviction step. */
const EVICT_CHUNK = 512;

/** What a deleted record row leaves behind for the lane counters and the drop totals. */
export interface DelRow {
  sink: string;
  priority: number;
  size: number;
}

/** Deletes a sealed batch and its records. */
export function dropBatch(s: StoreStatements, id: string): DelRow[] {
  s.delBatch.run(id);
  return s.delBatchRecords.all(id) as DelRow[];
}

/** Deletes the lowest-priority, oldest records (a sealed one takes its whole batch) until both amounts are freed. */
export function evictOldest(s: StoreStatements, freeBytes: number, freeRecords: number): DelRow[] {
  const out: DelRow[] = [];
  let bytes = 0;
  while (bytes < freeBytes || out.length < freeRecords) {
    const scan = s.evictScan.all(EVICT_CHUNK) as Row[];
    if (scan.length === 0) break;
    for (const r of scan) {
      if (bytes >= freeBytes && out.length >= freeRecords) break;
      const del = r.batch_id === null ? (s.delRecord.all(r.id) as DelRow[]) : dropBatch(s, String(r.batch_id));
      for (const d of del) {
        out.push(d);
        bytes += d.size;
      }
    }
  }
  return out;
}

/** Deletes records expired at `nowMs` (a sealed one takes its whole batch), about `maxRecords` at most. */
export function expireRows(s: StoreStatements, nowMs: number, maxRecords: number): DelRow[] {
  const out: DelRow[] = [];
  for (const r of s.expiredBatches.all(nowMs, maxRecords) as Row[]) out.push(...dropBatch(s, String(r.batch_id)));
  out.push(...(s.expire.all(nowMs, Math.max(0, maxRecords - out.length)) as DelRow[]));
  return out;
}

/** Deletes all records and batches (of one sink, or all) and/or all dead letters; counts what went. */
export function purgeRows(s: StoreStatements, opts: { sink: string | null; records: boolean; deadLetters: boolean }): { records: number; deadLetters: number } {
  let records = 0;
  let deadLetters = 0;
  if (opts.records) {
    if (opts.sink === null) {
      s.purgeBatchesAll.run();
      records = s.purgeAll.run().changes;
    } else {
      s.purgeBatchesSink.run(opts.sink);
      records = s.purgeSink.run(opts.sink).changes;
    }
  }
  if (opts.deadLetters) deadLetters = s.purgeDead.run().changes;
  return { records, deadLetters };
}
