/** Store on better-sqlite3 (buffer.db): statements prepared once, lane depth counters kept in memory. */
import type { Database as Db } from 'better-sqlite3';
import { LaneCounters, mergeDrops } from './lanes.ts';
import { appendViaWriter, countAdded, insertRows } from './sqlite-append.ts';
import { batchBytes, deadLetterBatch, replayRows } from './sqlite-dead.ts';
import { dropBatch, evictOldest, expireRows, purgeRows, type DelRow } from './sqlite-delete.ts';
import { countLanes, laneOldestMs, listRecordRows, unsealedRows } from './sqlite-reads.ts';
import { toBatch, toDeadLetter, toRecord, type Row } from './sqlite-rows.ts';
import { STORE_SQL, type StoreStatements } from './sqlite-sql.ts';
import { beginShiftRows, clampSomeRows, dropShiftRows, queueShiftRow, readShiftState, shiftSomeRows } from './sqlite-times.ts';
import { SqliteTx } from './sqlite-tx.ts';
import type { RecordLedger } from './ledger.ts';
import type { WriterThread } from './writer-thread.ts';
import {
  SHORT_SPACE_BATCH_BYTES,
  wholeBody,
  type AppendedGroup,
  type ClampSlice,
  type DeadLetter,
  type DepthRow,
  type DropResult,
  type NewRecord,
  type ReplayResult,
  type ReplaySplit,
  type SealedBatch,
  type ShiftPlan,
  type ShiftState,
  type Store,
  type StoredRecord,
  type TimeShift,
  type UnsealedQuery,
  type Usage,
} from './types.ts';

export { DEAD_LETTER_MAX_ROWS } from './sqlite-dead.ts';

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  readonly #lanes = new LaneCounters();
  readonly #s: StoreStatements;
  /** Transactions, disk-full handling and ledger bookkeeping. */
  readonly #tx: SqliteTx;

  /** Set when a writer thread commits appends (the committer then awaits it instead of blocking). */
  readonly appendManyAsync?: (records: readonly NewRecord[]) => Promise<number[]>;

  /**
   * `reservePath`: where to keep the disk-full ballast file (null: none, e.g. in-memory databases).
   * `writer`: commit appends on a worker thread's connection (reads, seals, acks and evictions stay here).
   */
  constructor(db: Db, reservePath: string | null = null, writer: WriterThread | null = null, ledger: RecordLedger | null = null) {
    this.#tx = new SqliteTx(db, reservePath, ledger);
    if (writer) this.appendManyAsync = (records) => appendViaWriter(this.#tx, this.#lanes, writer, records, (r) => this.appendMany(r));
    this.#s = Object.fromEntries(Object.entries(STORE_SQL).map(([k, sql]) => [k, db.prepare(sql)])) as StoreStatements;
    countLanes(db, this.#lanes);
  }

  spaceShort(): boolean {
    return this.#tx.spaceShort();
  }

  #deleted(rows: DelRow[]): DropResult[] {
    for (const r of rows) this.#lanes.add(r.sink, r.priority, -1, -r.size);
    return mergeDrops(rows);
  }

  #insertAll(records: readonly NewRecord[]): number[] {
    return this.#tx.run(() => insertRows(this.#s, records));
  }

  appendMany(records: readonly NewRecord[]): number[] {
    const ids = this.#insertAll(records);
    countAdded(this.#lanes, records);
    this.#tx.added(records.length);
    return ids;
  }

  /**
   * The committer's path: committed now; `durable` resolves once the ledger holds them too. The ledger's sync runs on
   * the thread pool while this commit's own WAL fsync blocks here, so the two overlap instead of adding up.
   */
  appendGroup(records: readonly NewRecord[]): AppendedGroup {
    const lastId = Number((this.#s.lastId.get() as Row | undefined)?.seq ?? 0);
    const { result: ids, durable } = this.#tx.adding(records.length, lastId, () => this.#insertAll(records));
    countAdded(this.#lanes, records);
    return { ids, durable };
  }

  /** Records with an id above `id` (the ledger's check of a group that was being committed at a crash). */
  recordsAfter(id: number): number {
    return Number((this.#s.countAfter.get(id) as Row).n);
  }

  usage(): Usage {
    return this.#lanes.total();
  }

  depth(): DepthRow[] {
    return this.#lanes.rows().map((l) => ({ ...l, oldestMs: l.records > 0 ? laneOldestMs(this.#s, l.sink, l.priority) : null }));
  }

  sealedBatch(sink: string, priority: number): SealedBatch | null {
    const r = this.#s.sealed.get(sink, priority) as Row | undefined;
    return r ? toBatch(r) : null;
  }

  unsealed(q: UnsealedQuery): StoredRecord[] {
    return unsealedRows(this.#s, q);
  }

  seal(b: Omit<SealedBatch, 'attempts'>, recordIds: readonly number[]): void {
    const write = (): void => {
      this.#s.insBatch.run(b.id, b.sink, b.priority, b.createdMs, b.contentType, b.contentEncoding, b.body, b.recordCount);
      for (const id of recordIds) this.#s.mark.run(b.id, id);
    };
    // Sealing takes space (the body is copied, the rows rewritten): only a small batch may use the reserve, so what
    // is left of it always holds this batch's acknowledgement (a 1 MiB seal on a full disk ate it: the drain stalled).
    this.#tx.consume(b.body.byteLength <= SHORT_SPACE_BATCH_BYTES, write);
  }

  ack(batchId: string): DropResult | null {
    const rows = this.#tx.drain(() => this.#tx.removing(dropBatch(this.#s, batchId)));
    return this.#deleted(rows)[0] ?? null;
  }

  unseal(batchId: string): number[] {
    return this.#tx.drain(() => {
      this.#s.delBatch.run(batchId);
      return (this.#s.unmark.all(batchId) as Row[]).map((r) => Number(r.id)).sort((a, b) => a - b);
    });
  }

  unsealedByIds(ids: readonly number[]): StoredRecord[] {
    return ids.length === 0 ? [] : (this.#s.byIds.all(JSON.stringify(ids)) as Row[]).map(toRecord);
  }

  recordAttempt(batchId: string): void {
    this.#tx.run(() => this.#s.attempt.run(batchId));
  }

  deadLetter(batchId: string, reason: string, status: number | null, nowMs: number): DropResult | null {
    // The body is copied into the dead letters: like a seal, only a small one may use the disk-full reserve.
    const small = batchBytes(this.#s, batchId) <= SHORT_SPACE_BATCH_BYTES;
    const rows = this.#tx.consume(small, () => this.#tx.removing(deadLetterBatch(this.#s, batchId, reason, status, nowMs)));
    return this.#deleted(rows)[0] ?? null;
  }

  dropOldest(freeBytes: number, freeRecords: number): DropResult[] {
    const rows = this.#tx.drain(() => this.#tx.removing(evictOldest(this.#s, freeBytes, freeRecords)));
    return this.#deleted(rows);
  }

  expire(nowMs: number, maxRecords: number = Number.MAX_SAFE_INTEGER): DropResult[] {
    const rows = this.#tx.drain(() => this.#tx.removing(expireRows(this.#s, nowMs, maxRecords)));
    return this.#deleted(rows);
  }

  // No rows come or go in a rebase, so no ledger bookkeeping; not `drain`: a slice rewrites more than the ballast holds.
  queueShift(shift: TimeShift): void {
    // `drain`: one small row, allowed the disk-full reserve like an acknowledgement (a lost step expires the buffer)
    this.#tx.drain(() => queueShiftRow(this.#s, shift));
  }

  beginShift(): ShiftPlan | null {
    return this.#tx.run(() => beginShiftRows(this.#s));
  }

  shiftSome(maxRecords: number): ShiftPlan {
    return this.#tx.run(() => shiftSomeRows(this.#s, maxRecords));
  }

  shiftState(): ShiftState {
    this.#tx.assertOpen();
    return readShiftState(this.#s);
  }

  dropShift(): void {
    this.#tx.run(() => dropShiftRows(this.#s));
  }

  clampSome(nowMs: number, expiryCaps: ReadonlyMap<string, number>, afterId: number, untilId: number | null, maxRecords: number): ClampSlice {
    return this.#tx.run(() => clampSomeRows(this.#s, nowMs, expiryCaps, afterId, untilId, maxRecords));
  }

  listRecords(sink: string | null, limit: number): StoredRecord[] {
    return listRecordRows(this.#s, sink, limit);
  }

  listDeadLetters(limit: number): DeadLetter[] {
    return (this.#s.listDead.all(limit) as Row[]).map(toDeadLetter);
  }

  deadLetterCount(): number {
    return Number((this.#s.countDead.get() as Row).n);
  }

  replayDeadLetters(ids: readonly string[] | null, nowMs: number, split: ReplaySplit = wholeBody): ReplayResult {
    const { deadLetters, added } = this.#tx.run(() => replayRows(this.#s, ids, nowMs, split));
    countAdded(this.#lanes, added);
    this.#tx.added(added.length);
    return { deadLetters, records: added.length };
  }

  purge(opts: { sink: string | null; records: boolean; deadLetters: boolean }): { records: number; deadLetters: number } {
    const res = this.#tx.drain(() => {
      const n = purgeRows(this.#s, opts);
      this.#tx.removing(new Array<never>(n.records));
      return n;
    });
    if (opts.records) this.#lanes.clear(opts.sink);
    return res;
  }

  maintenance(): void {
    this.#tx.maintenance();
  }

  close(): void {
    this.#tx.close();
  }
}
