/** Store on better-sqlite3 (buffer.db): statements prepared once, lane depth counters kept in memory. */
import type { Database as Db } from 'better-sqlite3';
import { isDiskFull } from './errors.ts';
import { LaneCounters, mergeDrops } from './lanes.ts';
import { batchBytes, deadLetterBatch, replayRows } from './sqlite-dead.ts';
import { dropBatch, evictOldest, expireRows, purgeRows, type DelRow } from './sqlite-delete.ts';
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
    if (writer) this.appendManyAsync = (records) => this.#appendViaWriter(writer, records);
    this.#s = Object.fromEntries(Object.entries(STORE_SQL).map(([k, sql]) => [k, db.prepare(sql)])) as StoreStatements;
    for (const r of db.prepare('SELECT sink, priority, COUNT(*) AS n, SUM(size) AS b FROM buf_records GROUP BY sink, priority').all() as Row[]) {
      this.#lanes.add(String(r.sink), Number(r.priority), Number(r.n), Number(r.b));
    }
  }

  spaceShort(): boolean {
    return this.#tx.spaceShort();
  }

  /** Commits through the writer thread (fsync off the event loop); falls back to this connection if the thread died. */
  async #appendViaWriter(writer: WriterThread, records: readonly NewRecord[]): Promise<number[]> {
    this.#tx.assertOpen();
    if (writer.failed !== null) return this.appendMany(records);
    let ids: number[];
    try {
      ids = await writer.append(records);
    } catch (e) {
      if (isDiskFull(e)) throw this.#tx.diskFull(e);
      if (writer.failed !== null && !this.#tx.closed) return this.appendMany(records);
      throw e;
    }
    this.#counted(records);
    await this.#tx.addedAsync(records.length);
    return ids;
  }

  #deleted(rows: DelRow[]): DropResult[] {
    for (const r of rows) this.#lanes.add(r.sink, r.priority, -1, -r.size);
    return mergeDrops(rows);
  }

  #counted(records: readonly NewRecord[]): void {
    for (const r of records) this.#lanes.add(r.sink, r.priority, 1, r.body.byteLength);
  }

  #insertAll(records: readonly NewRecord[]): number[] {
    const insert = this.#s.insert;
    return this.#tx.run(() => {
      const ids = new Array<number>(records.length);
      for (let i = 0; i < records.length; i++) {
        const r = records[i]!;
        ids[i] = Number(insert.run(r.sink, r.priority, r.createdMs, r.expiresMs, r.contentType, r.contentEncoding, r.body, r.body.byteLength).lastInsertRowid);
      }
      return ids;
    });
  }

  appendMany(records: readonly NewRecord[]): number[] {
    const ids = this.#insertAll(records);
    this.#counted(records);
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
    this.#counted(records);
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
    return this.#lanes.rows().map((l) => {
      const o = l.records > 0 ? (this.#s.oldest.get({ sink: l.sink, priority: l.priority }) as Row | undefined) : undefined;
      return { ...l, oldestMs: o && o.created_ms !== null ? Number(o.created_ms) : null };
    });
  }

  sealedBatch(sink: string, priority: number): SealedBatch | null {
    const r = this.#s.sealed.get(sink, priority) as Row | undefined;
    return r ? toBatch(r) : null;
  }

  unsealed(q: UnsealedQuery): StoredRecord[] {
    // Sizes first, so a lane of large bodies never loads more than maxBytes into memory.
    const args = [q.sink, q.priority, q.minCreatedMs ?? 0] as const;
    let n = 0;
    let bytes = 0;
    for (const r of this.#s.unsealedSizes.all(...args, q.maxRecords) as Row[]) {
      if (n > 0 && bytes + Number(r.size) > q.maxBytes) break;
      bytes += Number(r.size);
      n += 1;
    }
    return n === 0 ? [] : (this.#s.unsealed.all(...args, n) as Row[]).map(toRecord);
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
    const rows = (sink === null ? this.#s.listAll.all(limit) : this.#s.listSink.all(sink, limit)) as Row[];
    return rows.map(toRecord);
  }

  listDeadLetters(limit: number): DeadLetter[] {
    return (this.#s.listDead.all(limit) as Row[]).map(toDeadLetter);
  }

  deadLetterCount(): number {
    return Number((this.#s.countDead.get() as Row).n);
  }

  replayDeadLetters(ids: readonly string[] | null, nowMs: number, split: ReplaySplit = wholeBody): ReplayResult {
    const { deadLetters, added } = this.#tx.run(() => replayRows(this.#s, ids, nowMs, split));
    this.#counted(added);
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
