/** Record ledger beside buffer.db: durable totals of records added and removed, kept apart from the database and its WAL. */
import { closeSync, existsSync, fdatasync, fdatasyncSync, openSync, readSync, writeSync } from 'node:fs';
import { type Clock, systemClock } from '../agent/base/clock.ts';
import { encodeSlot, HEAD_BYTES, type LedgerTotals, newestSlot, NO_GROUP, SLOT_BYTES, slotOffset, type UnsureGroup } from './ledger-slot.ts';

export type { LedgerTotals } from './ledger-slot.ts';

/**
 * A confirming slot (a committed group no longer unsure) is written to the page cache before the group's 202s, so a
 * killed process leaves it behind; its fdatasync waits this long for the next group's sync to carry it instead. Only a
 * power loss within this window, and a WAL damaged in the same crash, can make a committed group look uncommitted.
 */
export const CONFIRM_AFTER_MS = 5;
/** File name suffix next to buffer.db (not moved with a quarantined database: it outlives the file it audits). */
export const LEDGER_SUFFIX = '.ledger';
/** What a check at open found: records the ledger says are stored but the database does not hold. */
export interface LedgerGap {
  expected: number;
  present: number;
  /** expected - present when positive (acknowledged records missing), else 0. */
  missing: number;
  /** Records of a group whose commit was running at the crash and is not in the file: never acknowledged (not a loss). */
  uncommitted: number;
}

/**
 * Two slot positions: the newest durable slot is never overwritten; every write goes to the other position, and an
 * fdatasync with no write after its start makes that one the newest durable slot. A torn write therefore always
 * leaves a valid slot. Removals are written before the database commit; a crash then leaves the ledger expecting
 * fewer records than are present (a duplicate, never a false loss).
 *
 * Additions on the ingest path (`adding`) are written before the group's commit and synced on libuv's thread pool
 * while the commit runs (its own WAL fsync), so the two syncs overlap; the 202 waits for both. That slot names the
 * group as unsure (its size and the highest record id before it). `committed` clears it: a confirming slot is written
 * to the page cache before the group's 202s, and the next group's slot (or a lazy fdatasync) makes it durable. At
 * open, an unsure group with no record above its id never committed, so none of it was acknowledged: `reconcile`
 * takes it out instead of reporting a loss.
 */
export class RecordLedger {
  readonly path: string;
  #fd: number;
  /** Generation of the newest slot written. */
  #gen = 0;
  #t: LedgerTotals = { added: 0, removed: 0 };
  /** Records counted in #t.added whose commit has not returned (at most one group: commits run one at a time). */
  #unsure: UnsureGroup = NO_GROUP;
  /** The unsure group of the newest slot read at open (what the first `reconcile` checks against the file). */
  #openedUnsure: UnsureGroup;
  /** Position (0/1) of the newest durable slot, never overwritten (-1: none in this layout yet). */
  #durablePos = -1;
  /** Position of the newest slot written; it is durable once #dirty is false. */
  #writtenPos = -1;
  #dirty = false;
  /** False when the file did not exist or held no valid slot (first start, or an upgrade) until the first reconcile. */
  found: boolean;
  /** An fdatasync runs on the thread pool. */
  #syncing = false;
  /** Callers of adding/addedAsync whose totals are in memory but not yet in a synced slot. */
  #waiting: (() => void)[] = [];
  /** A group committed while its slot was syncing: write the confirming slot when that sync ends. */
  #confirm = false;
  /** Cancels the armed lazy fdatasync of a confirming slot (null: none armed). */
  #lazyTimer: (() => void) | null = null;
  readonly #setTimer: Clock['setTimer'];
  /** Why the ledger stopped being written (null: fine). A broken ledger never blocks the buffer; it only stops auditing. */
  broken: string | null = null;

  constructor(path: string, setTimer: Clock['setTimer'] = systemClock.setTimer) {
    this.path = path;
    this.#setTimer = setTimer;
    const existed = existsSync(path);
    this.#fd = openSync(path, existed ? 'r+' : 'w+');
    const head = Buffer.alloc(HEAD_BYTES);
    if (existed) readSync(this.#fd, head, 0, head.length, 0);
    const best = existed ? newestSlot(head) : null;
    this.found = best !== null;
    this.#openedUnsure = best?.unsure ?? NO_GROUP;
    if (best) {
      this.#gen = best.gen;
      this.#t = { ...best.totals };
      this.#durablePos = best.pos;
      this.#writtenPos = best.pos;
    }
  }

  get totals(): LedgerTotals {
    return { ...this.#t };
  }

  /** Records the ledger says are stored now. */
  get expected(): number {
    return this.#t.added - this.#t.removed;
  }

  get #usable(): boolean {
    return this.broken === null && this.#fd >= 0;
  }

  /** Writes the totals into the position that is not the newest durable slot (page cache only); false when broken. */
  #writeSlot(): boolean {
    if (!this.#usable) return false;
    const pos = this.#durablePos === 0 ? 1 : 0;
    this.#gen = (this.#gen + 1) >>> 0;
    try {
      writeSync(this.#fd, encodeSlot({ gen: this.#gen, totals: this.#t, unsure: this.#unsure }), 0, SLOT_BYTES, slotOffset(pos));
    } catch (e) {
      this.broken = (e as Error).message;
      return false;
    }
    this.#writtenPos = pos;
    this.#dirty = true;
    if (this.#unsure.records === 0) this.#confirm = false; // this slot confirms every committed group
    return true;
  }

  /** An fdatasync that started at generation `gen` ended: if nothing was written since, that slot is the durable one. */
  #synced(gen: number): void {
    if (gen !== this.#gen || !this.#dirty) return;
    this.#dirty = false;
    this.#durablePos = this.#writtenPos;
  }

  /** Synchronous write + fdatasync (removals, reconcile, a failed commit). */
  #write(): void {
    if (!this.#writeSlot()) return;
    try {
      fdatasyncSync(this.#fd);
      this.#synced(this.#gen);
    } catch (e) {
      this.broken = (e as Error).message;
    }
  }

  /** fdatasync on the thread pool of what is written now; `done` runs when it ends (also on error or once broken). */
  #syncAsync(done: () => void): void {
    if (!this.#usable) return done();
    const gen = this.#gen;
    this.#syncing = true;
    fdatasync(this.#fd, (err) => {
      this.#syncing = false;
      if (err) {
        if (this.#usable) this.broken = err.message;
      } else this.#synced(gen);
      done();
    });
  }

  /** One slot write + fdatasync for everyone waiting; the next starts when it ends. */
  #startAsync(): void {
    const batch = this.#waiting;
    this.#waiting = [];
    this.#cancelLazy();
    if (!this.#writeSlot()) {
      for (const w of batch) w();
      return;
    }
    this.#syncAsync(() => {
      // A group that committed meanwhile is confirmed before anyone hears of durability (the 202s).
      if (this.#confirm && this.#waiting.length === 0) this.#writeConfirm();
      this.#confirm = false;
      for (const w of batch) w();
      if (this.#waiting.length > 0) this.#startAsync();
    });
  }

  /** Resolves once a synced slot holds the totals as they are now (never rejects: a broken ledger stops auditing only). */
  #durable(): Promise<void> {
    if (!this.#usable) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      if (!this.#syncing) this.#startAsync();
    });
  }

  /** The confirming slot: page cache now (a killed process leaves it), fdatasync'ed lazily unless another write comes. */
  #writeConfirm(): void {
    if (!this.#writeSlot() || this.#lazyTimer !== null) return;
    this.#lazyTimer = this.#setTimer(CONFIRM_AFTER_MS, () => {
      this.#lazyTimer = null;
      if (!this.#dirty || !this.#usable) return;
      if (this.#syncing || this.#waiting.length > 0) return; // that sync or the next carries it
      this.#syncAsync(() => {
        if (this.#waiting.length > 0 && !this.#syncing) this.#startAsync();
      });
    });
  }

  #cancelLazy(): void {
    this.#lazyTimer?.();
    this.#lazyTimer = null;
  }

  /**
   * A group of `n` records is about to be committed; ids above `afterId` will be its own. Resolves once a synced slot
   * holds it (the caller acknowledges only then, and only if the commit succeeded). Call `committed` or `uncommitted`
   * when the commit returns.
   */
  adding(n: number, afterId: number): Promise<void> {
    if (n <= 0) return Promise.resolve();
    this.#t.added += n;
    this.#unsure = { records: n, afterId };
    return this.#durable();
  }

  /** The group announced by `adding` is in the database: a confirming slot is written before its 202s. */
  committed(): void {
    if (this.#unsure.records === 0) return;
    this.#unsure = NO_GROUP;
    if (this.#syncing) this.#confirm = true;
    else this.#writeConfirm();
  }

  /** The group announced by `adding` did not commit: it leaves the totals (written synchronously). */
  uncommitted(): void {
    if (this.#unsure.records === 0) return;
    this.#t.added -= this.#unsure.records;
    this.#unsure = NO_GROUP;
    this.#write();
  }

  /**
   * Records added by a commit that already happened (the writer thread's); resolves once a synced slot holds them (the
   * caller acknowledges only then).
   */
  addedAsync(n: number): Promise<void> {
    if (n <= 0) return Promise.resolve();
    this.#t.added += n;
    return this.#durable();
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

  /**
   * Compares with the records the database holds and re-bases the ledger on them (a gap is reported once).
   * `countAfter(id)`: records in the file with an id above `id`, to tell whether a group unsure at the crash committed.
   */
  reconcile(present: number, countAfter: (id: number) => number = () => 0): LedgerGap {
    let expected = this.found ? this.expected : present;
    const u = this.#openedUnsure;
    // Nothing above the group's first id: its commit never happened, so neither did its 202s.
    const uncommitted = this.found && u.records > 0 && countAfter(u.afterId) === 0 ? u.records : 0;
    expected -= uncommitted;
    this.#openedUnsure = NO_GROUP;
    const gap = { expected, present, missing: Math.max(0, expected - present), uncommitted };
    this.#t = { added: this.#t.added - uncommitted + Math.max(0, present - expected), removed: this.#t.removed + gap.missing };
    if (!this.found) this.#t = { added: present, removed: 0 };
    this.found = true;
    this.#write();
    return gap;
  }

  close(): void {
    if (this.#fd < 0) return;
    this.#cancelLazy();
    if (this.#waiting.length > 0 || this.#confirm) {
      this.#confirm = false;
      this.#write(); // totals still waiting for a slot become durable now
    } else if (this.#dirty || this.#syncing) {
      try {
        fdatasyncSync(this.#fd);
        this.#synced(this.#gen);
      } catch (e) {
        this.broken = (e as Error).message;
      }
    }
    for (const w of this.#waiting.splice(0)) w();
    closeSync(this.#fd);
    this.#fd = -1;
  }
}
