/** Transactions of the SQLite store: disk-full handling (ballast, retry on the draining path) and the record ledger's bookkeeping. */
import type { Database as Db } from 'better-sqlite3';
import { LwError, isLwError } from '../agent/base/errors.ts';
import { BufferError, isDiskFull } from './errors.ts';
import type { RecordLedger } from './ledger.ts';
import { SpaceGuard } from './sqlite-space.ts';

/** Pages reclaimed per maintenance pass (4 KiB each): 16 MiB, so one pass stays short. */
export const VACUUM_PAGES_PER_PASS = 4_096;
const RESOLVED: Promise<void> = Promise.resolve();

export class SqliteTx {
  readonly db: Db;
  readonly #space: SpaceGuard;
  /** Durable added/removed totals beside the file (null: not kept, e.g. tests and the CLI's salvage reader). */
  readonly #ledger: RecordLedger | null;
  /** Removals written to the ledger inside the running transaction (taken back if it does not commit). */
  #txRemoved = 0;
  #closed = false;

  /** `reservePath`: where to keep the disk-full ballast file (null: none, e.g. in-memory databases). */
  constructor(db: Db, reservePath: string | null, ledger: RecordLedger | null) {
    this.db = db;
    this.#ledger = ledger;
    this.#space = new SpaceGuard(reservePath);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Throws LW_BUFFER_UNAVAILABLE once closed. */
  assertOpen(): void {
    if (this.#closed) throw new LwError(BufferError.UNAVAILABLE, 'telemetry buffer is closed');
  }

  /** Runs `fn` in one transaction; disk-full and closed states become LwErrors the caller can branch on. */
  run<T>(fn: () => T): T {
    this.assertOpen();
    this.#txRemoved = 0;
    try {
      return this.db.transaction(fn).immediate();
    } catch (e) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      if (this.#txRemoved !== 0) this.#ledger?.removed(-this.#txRemoved);
      throw isDiskFull(e) ? this.diskFull(e) : e;
    }
  }

  /**
   * A transaction on the path that wins space back (seal, ack, dead letter, eviction, expiry, unseal, purge). On a full
   * disk the ballast is released and it is tried once more: an acknowledgement's few WAL frames (or a small batch) fit,
   * so delivered data is recorded as such and its pages freed. Appends never release the ballast (they only mark the
   * store short of space).
   */
  drain<T>(fn: () => T): T {
    let result: T;
    try {
      result = this.run(fn);
    } catch (e) {
      if (!isLwError(e, BufferError.DISK_FULL)) throw e;
      this.#space.release();
      result = this.run(fn);
    }
    if (this.#space.isShort) this.#reclaim();
    return result;
  }

  /**
   * A transaction that takes space to make sending possible (sealing a batch). A small one (`small`) may use the
   * ballast like a delete, since its acknowledgement gives the room back; a large one runs only while the ballast is in
   * place and never releases it, so a full disk always keeps the room the batch's acknowledgement needs.
   */
  consume<T>(small: boolean, fn: () => T): T {
    if (small) return this.drain(fn);
    if (!this.#space.hasBallast()) throw this.diskFull(new Error('disk-full reserve in use: seal a smaller batch'));
    return this.run(fn);
  }

  /**
   * While short of space: give free pages back to the file system and re-create the ballast when possible. The
   * checkpoint runs even when the vacuum fails for room, so the WAL's frames are folded back and its room reused.
   */
  #reclaim(): void {
    try {
      this.db.exec(`PRAGMA incremental_vacuum(${VACUUM_PAGES_PER_PASS})`);
    } catch {
      /* still full: the next delete tries again */
    }
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      /* the same */
    }
    this.#space.short();
  }

  diskFull(cause: unknown): LwError {
    this.#space.markShort();
    return new LwError(BufferError.DISK_FULL, 'no space left for the telemetry buffer; free disk space under state.dir or lower buffer.maxBytes', { cause });
  }

  /** True while the disk is too full for appends (they are refused or evict first; deletes still work). */
  spaceShort(): boolean {
    return this.#space.short();
  }

  /** Inside a transaction, before its commit: the ledger learns of removals first (a crash then errs toward a duplicate). */
  removing<T>(rows: T[]): T[] {
    if (rows.length > 0 && this.#ledger) {
      this.#ledger.removed(rows.length);
      this.#txRemoved += rows.length;
    }
    return rows;
  }

  /** After a commit, before any 202: the ledger learns of additions (synchronously durable). */
  added(n: number): void {
    this.#ledger?.added(n);
  }

  /** The same, synced off the event loop and shared with other commits; acknowledge only once it resolves. */
  addedAsync(n: number): Promise<void> {
    return this.#ledger ? this.#ledger.addedAsync(n) : RESOLVED;
  }

  /**
   * Before a group's commit: the ledger counts it (ids above `afterId`) and syncs off the event loop while the commit
   * runs; acknowledge once it resolves and `fn` (the commit) returned. The ledger learns whether the commit happened.
   */
  adding<T>(n: number, afterId: number, fn: () => T): { result: T; durable: Promise<void> } {
    const durable = this.#ledger ? this.#ledger.adding(n, afterId) : RESOLVED;
    let result: T;
    try {
      result = fn();
    } catch (e) {
      this.#ledger?.uncommitted();
      throw e;
    }
    this.#ledger?.committed();
    return { result, durable };
  }

  /** Free pages back to the file system, WAL truncated, ballast re-created; a full disk is not an error here. */
  maintenance(): void {
    if (this.#closed) return;
    try {
      // exec steps the pragma to completion (a prepared statement's one step would free only one page).
      this.db.exec(`PRAGMA incremental_vacuum(${VACUUM_PAGES_PER_PASS}); PRAGMA wal_checkpoint(TRUNCATE);`);
      this.#space.ensure();
    } catch (e) {
      if (!isDiskFull(e)) throw e;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.db.close();
  }
}
