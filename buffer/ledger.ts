/** Record ledger beside buffer.db: durable totals of records added and removed, kept apart from the database and its WAL. */
import { closeSync, existsSync, fdatasync, fdatasyncSync, openSync, readSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';

/** File name suffix next to buffer.db (not moved with a quarantined database: it outlives the file it audits). */
export const LEDGER_SUFFIX = '.ledger';
/** One slot: magic, generation, added, removed (float64: exact to 2^53 records), crc32 of the first 28 bytes. */
const SLOT_BYTES = 32;
const MAGIC = 0x4c57_4c31; // "LWL1"

export interface LedgerTotals {
  added: number;
  removed: number;
}

/** What a check at open found: records the ledger says are stored but the database does not hold. */
export interface LedgerGap {
  expected: number;
  present: number;
  /** expected - present when positive (acknowledged records missing), else 0. */
  missing: number;
}

function encode(gen: number, t: LedgerTotals): Buffer {
  const b = Buffer.alloc(SLOT_BYTES);
  b.writeUInt32LE(MAGIC, 0);
  b.writeUInt32LE(gen >>> 0, 4);
  b.writeDoubleLE(t.added, 8);
  b.writeDoubleLE(t.removed, 16);
  b.writeUInt32LE(crc32(b.subarray(0, 28)), 28);
  return b;
}

function decode(b: Buffer): { gen: number; totals: LedgerTotals } | null {
  if (b.length < SLOT_BYTES || b.readUInt32LE(0) !== MAGIC || b.readUInt32LE(28) !== crc32(b.subarray(0, 28))) return null;
  return { gen: b.readUInt32LE(4), totals: { added: b.readDoubleLE(8), removed: b.readDoubleLE(16) } };
}

/**
 * Two slots written in turn, each fdatasync'ed: a torn write leaves the other slot valid. Additions are written after
 * the database commit and before the client's 202; removals before the database commit. Either crash window can only
 * make the ledger expect fewer records than are present (a duplicate), never report a loss that did not happen.
 * A slot is only overwritten once the other one is known durable. The ingest path (`addedAsync`) syncs on libuv's
 * thread pool, one write for all the group commits that ended meanwhile, so the event loop never waits for it.
 */
export class RecordLedger {
  readonly path: string;
  #fd: number;
  #gen = 0;
  #t: LedgerTotals = { added: 0, removed: 0 };
  /** False when the file did not exist or held no valid slot (first start, or an upgrade) until the first reconcile. */
  found: boolean;
  /** A slot was written and its fdatasync has not finished (async path): the other slot must not be overwritten yet. */
  #syncing = false;
  /** Callers of addedAsync whose totals are in memory but not yet in a synced slot. */
  #waiting: (() => void)[] = [];
  /** Why the ledger stopped being written (null: fine). A broken ledger never blocks the buffer; it only stops auditing. */
  broken: string | null = null;

  constructor(path: string) {
    this.path = path;
    const existed = existsSync(path);
    this.#fd = openSync(path, existed ? 'r+' : 'w+');
    let best: { gen: number; totals: LedgerTotals } | null = null;
    if (existed) {
      const buf = Buffer.alloc(SLOT_BYTES * 2);
      readSync(this.#fd, buf, 0, buf.length, 0);
      for (const s of [decode(buf.subarray(0, SLOT_BYTES)), decode(buf.subarray(SLOT_BYTES))]) {
        if (s && (best === null || ((s.gen - best.gen) | 0) > 0)) best = s;
      }
    }
    this.found = best !== null;
    if (best) {
      this.#gen = best.gen;
      this.#t = { ...best.totals };
    }
  }

  get totals(): LedgerTotals {
    return { ...this.#t };
  }

  /** Records the ledger says are stored now. */
  get expected(): number {
    return this.#t.added - this.#t.removed;
  }

  /** Writes the totals into the next slot (page cache only); false when the ledger is broken or closed. */
  #writeSlot(): boolean {
    if (this.broken !== null || this.#fd < 0) return false;
    this.#gen = (this.#gen + 1) >>> 0;
    try {
      writeSync(this.#fd, encode(this.#gen, this.#t), 0, SLOT_BYTES, (this.#gen % 2) * SLOT_BYTES);
      return true;
    } catch (e) {
      this.broken = (e as Error).message;
      return false;
    }
  }

  /** Synchronous write + fdatasync (removals, reconcile); first makes an async write still in flight durable. */
  #write(): void {
    try {
      if (this.#syncing && this.#fd >= 0) fdatasyncSync(this.#fd);
      if (this.#writeSlot()) fdatasyncSync(this.#fd);
    } catch (e) {
      this.broken = (e as Error).message;
    }
  }

  /** One slot write + fdatasync off the event loop for everyone waiting; the next starts when it ends. */
  #startAsync(): void {
    const batch = this.#waiting;
    this.#waiting = [];
    if (!this.#writeSlot()) {
      for (const w of batch) w();
      return;
    }
    this.#syncing = true;
    fdatasync(this.#fd, (err) => {
      this.#syncing = false;
      if (err && this.#fd >= 0 && this.broken === null) this.broken = err.message;
      for (const w of batch) w();
      if (this.#waiting.length > 0) this.#startAsync();
    });
  }

  /**
   * Records added by a commit that already happened; resolves once a synced slot holds them (the caller acknowledges
   * only then). Never rejects: a broken ledger stops auditing, it does not block the buffer.
   */
  addedAsync(n: number): Promise<void> {
    if (n <= 0 || this.broken !== null || this.#fd < 0) return Promise.resolve();
    this.#t.added += n;
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      if (!this.#syncing) this.#startAsync();
    });
  }

  added(n: number): void {
    if (n <= 0) return;
    this.#t.added += n;
    this.#write();
  }

  /** Records removed (negative: a removal written before a commit that then failed is taken back). */
  removed(n: number): void {
    if (n === 0) return;
    this.#t.removed += n;
    this.#write();
  }

  /** Compares with the records the database holds and re-bases the ledger on them (a gap is reported once). */
  reconcile(present: number): LedgerGap {
    const expected = this.found ? this.expected : present;
    const gap = { expected, present, missing: Math.max(0, expected - present) };
    this.#t = { added: this.#t.added + Math.max(0, present - expected), removed: this.#t.removed + gap.missing };
    if (!this.found) this.#t = { added: present, removed: 0 };
    this.found = true;
    this.#write();
    return gap;
  }

  close(): void {
    if (this.#fd < 0) return;
    if (this.#waiting.length > 0)
      this.#write(); // totals still waiting for a slot become durable now
    else if (this.#syncing) {
      try {
        fdatasyncSync(this.#fd);
      } catch (e) {
        this.broken = (e as Error).message;
      }
    }
    for (const w of this.#waiting.splice(0)) w();
    closeSync(this.#fd);
    this.#fd = -1;
  }
}
