/** Store on better-sqlite3 (buffer.db): statements prepared once, lane depth counters kept in memory. */
import type { Database as Db, Statement } from 'better-sqlite3';
import { LwError, isLwError } from '../agent/base/errors.ts';
import { BufferError, isDiskFull } from './errors.ts';
import { LaneCounters, mergeDrops } from './lanes.ts';
import { toBatch, toDeadLetter, toRecord, type Row } from './sqlite-rows.ts';
import { SpaceGuard } from './sqlite-space.ts';
import { STORE_SQL, type StoreSqlName } from './sqlite-sql.ts';
import type { RecordLedger } from './ledger.ts';
import type { WriterThread } from './writer-thread.ts';
import { wholeBody, type DeadLetter, type DepthRow, type DropResult, type NewRecord, type ReplayResult, type ReplaySplit, type SealedBatch, type Store, type StoredRecord, type UnsealedQuery, type Usage } from './types.ts';

/** Dead letters kept at most; older ones are deleted so a misconfigured sink cannot fill the disk. */
export const DEAD_LETTER_MAX_ROWS = 1_000;
/** Pages reclaimed per maintenance pass (4 KiB each): 16 MiB, so one pass stays short. */
const VACUUM_PAGES_PER_PASS = 4_096;
/** Rows examined per eviction step. */
const EVICT_CHUNK = 512;

interface DelRow { sink: string; priority: number; size: number }

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  readonly #db: Db;
  readonly #lanes = new LaneCounters();
  readonly #s: Record<StoreSqlName, Statement>;
  #closed = false;
  readonly #space: SpaceGuard;
  /** Durable added/removed totals beside the file (null: not kept, e.g. tests and the CLI's salvage reader). */
  readonly #ledger: RecordLedger | null;
  /** Removals written to the ledger inside the running transaction (taken back if it does not commit). */
  #txRemoved = 0;

  /** Set when a writer thread commits appends (the committer then awaits it instead of blocking). */
  readonly appendManyAsync?: (records: readonly NewRecord[]) => Promise<number[]>;

  /**
   * `reservePath`: where to keep the disk-full ballast file (null: none, e.g. in-memory databases).
   * `writer`: commit appends on a worker thread's connection (reads, seals, acks and evictions stay here).
   */
  constructor(db: Db, reservePath: string | null = null, writer: WriterThread | null = null, ledger: RecordLedger | null = null) {
    this.#db = db;
    this.#ledger = ledger;
    this.#space = new SpaceGuard(reservePath);
    if (writer) this.appendManyAsync = (records) => this.#appendViaWriter(writer, records);
    this.#s = Object.fromEntries(Object.entries(STORE_SQL).map(([k, sql]) => [k, db.prepare(sql)])) as Record<StoreSqlName, Statement>;
    for (const r of db.prepare('SELECT sink, priority, COUNT(*) AS n, SUM(size) AS b FROM buf_records GROUP BY sink, priority').all() as Row[]) {
      this.#lanes.add(String(r.sink), Number(r.priority), Number(r.n), Number(r.b));
    }
  }

  /** Runs `fn` in one transaction; disk-full and closed states become LwErrors the caller can branch on. */
  #tx<T>(fn: () => T): T {
    if (this.#closed) throw new LwError(BufferError.UNAVAILABLE, 'telemetry buffer is closed');
    this.#txRemoved = 0;
    try {
      return this.#db.transaction(fn).immediate();
    } catch (e) {
      if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
      if (this.#txRemoved !== 0) this.#ledger?.removed(-this.#txRemoved);
      throw isDiskFull(e) ? this.#diskFull(e) : e;
    }
  }

  /**
   * A transaction on the path that wins space back (seal, ack, dead letter, eviction, expiry, unseal, purge). On a full
   * disk the ballast is released and it is tried once more: an acknowledgement's few WAL frames (or a small batch) fit,
   * so delivered data is recorded as such and its pages freed. Appends never release the ballast (they only mark the
   * store short of space).
   */
  #drainTx<T>(fn: () => T): T {
    let result: T;
    try {
      result = this.#tx(fn);
    } catch (e) {
      if (!isLwError(e, BufferError.DISK_FULL)) throw e;
      this.#space.release();
      result = this.#tx(fn);
    }
    if (this.#space.isShort) this.#reclaim();
    return result;
  }

  /** While short of space: give free pages back to the file system and re-create the ballast when possible. */
  #reclaim(): void {
    try {
      this.#db.exec(`PRAGMA incremental_vacuum(${VACUUM_PAGES_PER_PASS}); PRAGMA wal_checkpoint(TRUNCATE);`);
    } catch { /* still full: the next delete tries again */ }
    this.#space.short();
  }

  #diskFull(cause: unknown): LwError {
    this.#space.markShort();
    return new LwError(BufferError.DISK_FULL, 'no space left for the telemetry buffer; free disk space under state.dir or lower buffer.maxBytes', { cause });
  }

  /** True while the disk is too full for appends (they are refused or evict first; deletes still work). */
  spaceShort(): boolean {
    return this.#space.short();
  }

  /** Commits through the writer thread (fsync off the event loop); falls back to this connection if the thread died. */
  async #appendViaWriter(writer: WriterThread, records: readonly NewRecord[]): Promise<number[]> {
    if (this.#closed) throw new LwError(BufferError.UNAVAILABLE, 'telemetry buffer is closed');
    if (writer.failed !== null) return this.appendMany(records);
    let ids: number[];
    try {
      ids = await writer.append(records);
    } catch (e) {
      if (isDiskFull(e)) throw this.#diskFull(e);
      if (writer.failed !== null && !this.#closed) return this.appendMany(records);
      throw e;
    }
    for (const r of records) this.#lanes.add(r.sink, r.priority, 1, r.body.byteLength);
    this.#added(records.length);
    return ids;
  }

  /** Inside a transaction, before its commit: the ledger learns of removals first (a crash then errs toward a duplicate). */
  #removing<T>(rows: T[]): T[] {
    if (rows.length > 0 && this.#ledger) {
      this.#ledger.removed(rows.length);
      this.#txRemoved += rows.length;
    }
    return rows;
  }

  /** After a commit, before any 202: the ledger learns of additions. */
  #added(n: number): void {
    this.#ledger?.added(n);
  }

  #deleted(rows: DelRow[]): DropResult[] {
    for (const r of rows) this.#lanes.add(r.sink, r.priority, -1, -r.size);
    return mergeDrops(rows);
  }

  appendMany(records: readonly NewRecord[]): number[] {
    const ids = this.#tx(() => records.map((r) => Number(this.#s.insert.run(r.sink, r.priority, r.createdMs, r.expiresMs, r.contentType, r.contentEncoding, r.body, r.body.byteLength).lastInsertRowid)));
    for (const r of records) this.#lanes.add(r.sink, r.priority, 1, r.body.byteLength);
    this.#added(records.length);
    return ids;
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
    this.#drainTx(() => {
      this.#s.insBatch.run(b.id, b.sink, b.priority, b.createdMs, b.contentType, b.contentEncoding, b.body, b.recordCount);
      for (const id of recordIds) this.#s.mark.run(b.id, id);
    });
  }

  ack(batchId: string): DropResult | null {
    const rows = this.#drainTx(() => {
      this.#s.delBatch.run(batchId);
      return this.#removing(this.#s.delBatchRecords.all(batchId) as DelRow[]);
    });
    return this.#deleted(rows)[0] ?? null;
  }

  unseal(batchId: string): number[] {
    return this.#drainTx(() => {
      this.#s.delBatch.run(batchId);
      return (this.#s.unmark.all(batchId) as Row[]).map((r) => Number(r.id)).sort((a, b) => a - b);
    });
  }

  unsealedByIds(ids: readonly number[]): StoredRecord[] {
    return ids.length === 0 ? [] : (this.#s.byIds.all(JSON.stringify(ids)) as Row[]).map(toRecord);
  }

  recordAttempt(batchId: string): void {
    this.#tx(() => this.#s.attempt.run(batchId));
  }

  deadLetter(batchId: string, reason: string, status: number | null, nowMs: number): DropResult | null {
    const rows = this.#drainTx(() => {
      const b = this.#s.delBatch.get(batchId) as Row | undefined;
      if (!b) return [];
      this.#s.insDead.run(b.id, b.sink, b.priority, nowMs, status, reason, b.record_count, b.content_type, b.content_encoding, b.body);
      this.#s.trimDead.run(DEAD_LETTER_MAX_ROWS);
      return this.#removing(this.#s.delBatchRecords.all(batchId) as DelRow[]);
    });
    return this.#deleted(rows)[0] ?? null;
  }

  dropOldest(freeBytes: number, freeRecords: number): DropResult[] {
    const rows = this.#drainTx(() => {
      const out: DelRow[] = [];
      let bytes = 0;
      while (bytes < freeBytes || out.length < freeRecords) {
        const scan = this.#s.evictScan.all(EVICT_CHUNK) as Row[];
        if (scan.length === 0) break;
        for (const r of scan) {
          if (bytes >= freeBytes && out.length >= freeRecords) break;
          const del = r.batch_id === null ? (this.#s.delRecord.all(r.id) as DelRow[]) : this.#dropBatch(String(r.batch_id));
          for (const d of del) { out.push(d); bytes += d.size; }
        }
      }
      return this.#removing(out);
    });
    return this.#deleted(rows);
  }

  #dropBatch(id: string): DelRow[] {
    this.#s.delBatch.run(id);
    return this.#s.delBatchRecords.all(id) as DelRow[];
  }

  expire(nowMs: number, maxRecords: number = Number.MAX_SAFE_INTEGER): DropResult[] {
    const rows = this.#drainTx(() => {
      const out: DelRow[] = [];
      for (const r of this.#s.expiredBatches.all(nowMs, maxRecords) as Row[]) out.push(...this.#dropBatch(String(r.batch_id)));
      out.push(...(this.#s.expire.all(nowMs, Math.max(0, maxRecords - out.length)) as DelRow[]));
      return this.#removing(out);
    });
    return this.#deleted(rows);
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
    const added: NewRecord[] = [];
    const res = this.#tx(() => {
      const rows = ids === null ? (this.#s.allDead.all() as Row[]) : ids.map((id) => this.#s.oneDead.get(id) as Row | undefined).filter((r): r is Row => r !== undefined);
      for (const r of rows) {
        const d = toDeadLetter(r);
        for (const b of split(d)) {
          const rec: NewRecord = { sink: d.sink, priority: d.priority, createdMs: nowMs, expiresMs: null, ...b };
          this.#s.insert.run(rec.sink, rec.priority, rec.createdMs, null, rec.contentType, rec.contentEncoding, rec.body, rec.body.byteLength);
          added.push(rec);
        }
        this.#s.delDead.run(d.id);
      }
      return { deadLetters: rows.length, records: added.length };
    });
    for (const r of added) this.#lanes.add(r.sink, r.priority, 1, r.body.byteLength);
    this.#added(added.length);
    return res;
  }

  purge(opts: { sink: string | null; records: boolean; deadLetters: boolean }): { records: number; deadLetters: number } {
    const res = this.#drainTx(() => {
      let records = 0;
      let deadLetters = 0;
      if (opts.records) {
        if (opts.sink === null) { this.#s.purgeBatchesAll.run(); records = this.#s.purgeAll.run().changes; } else { this.#s.purgeBatchesSink.run(opts.sink); records = this.#s.purgeSink.run(opts.sink).changes; }
      }
      if (opts.deadLetters) deadLetters = this.#s.purgeDead.run().changes;
      this.#removing(new Array<never>(records));
      return { records, deadLetters };
    });
    if (opts.records) this.#lanes.clear(opts.sink);
    return res;
  }

  maintenance(): void {
    if (this.#closed) return;
    try {
      // exec steps the pragma to completion (a prepared statement's one step would free only one page).
      this.#db.exec(`PRAGMA incremental_vacuum(${VACUUM_PAGES_PER_PASS}); PRAGMA wal_checkpoint(TRUNCATE);`);
      this.#space.ensure();
    } catch (e) {
      if (!isDiskFull(e)) throw e;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }
}
