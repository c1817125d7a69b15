/** Dead letters of the SQLite store: a refused batch moved aside (capped), and replayed back into records. */
import type { DelRow } from './sqlite-delete.ts';
import type { StoreStatements } from './sqlite-sql.ts';
import { toDeadLetter, type Row } from './sqlite-rows.ts';
import type { NewRecord, ReplaySplit } from './types.ts';

/** Dead letters kept at most; older ones are deleted so a misconfigured sink cannot fill the disk. */
export const DEAD_LETTER_MAX_ROWS = 1_000;

/** Bytes of a sealed batch's body (0: no such batch). */
export function batchBytes(s: StoreStatements, batchId: string): number {
  return Number((s.batchBytes.get(batchId) as { n: number } | undefined)?.n ?? 0);
}

/** Inside a transaction: moves a sealed batch into the dead letters and deletes its records ([] when it is gone). */
export function deadLetterBatch(s: StoreStatements, batchId: string, reason: string, status: number | null, nowMs: number): DelRow[] {
  const b = s.delBatch.get(batchId) as Row | undefined;
  if (!b) return [];
  s.insDead.run(b.id, b.sink, b.priority, nowMs, status, reason, b.record_count, b.content_type, b.content_encoding, b.body);
  s.trimDead.run(DEAD_LETTER_MAX_ROWS);
  return s.delBatchRecords.all(batchId) as DelRow[];
}

/** Inside a transaction: dead letters (the given ids, or all) back into records created at `nowMs`, then deleted. */
export function replayRows(s: StoreStatements, ids: readonly string[] | null, nowMs: number, split: ReplaySplit): { deadLetters: number; added: NewRecord[] } {
  const added: NewRecord[] = [];
  const rows = ids === null ? (s.allDead.all() as Row[]) : ids.map((id) => s.oneDead.get(id) as Row | undefined).filter((r): r is Row => r !== undefined);
  for (const r of rows) {
    const d = toDeadLetter(r);
    for (const b of split(d)) {
      const rec: NewRecord = { sink: d.sink, priority: d.priority, createdMs: nowMs, expiresMs: null, ...b };
      s.insert.run(rec.sink, rec.priority, rec.createdMs, null, rec.contentType, rec.contentEncoding, rec.body, rec.body.byteLength);
      added.push(rec);
    }
    s.delDead.run(d.id);
  }
  return { deadLetters: rows.length, added };
}
