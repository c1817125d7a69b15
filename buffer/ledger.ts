/** Record ledger beside buffer.db: durable totals of records added and removed, kept apart from the database and its WAL. */
import { type Clock, systemClock } from '../agent/base/clock.ts';
import { LedgerFile } from './ledger-file.ts';
import { type LedgerTotals, NO_GROUP, type UnsureGroup } from './ledger-slot.ts';

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
 * Slots in a LedgerFile (the newest durable one is never overwritten). Removals are written and synced before the
 * database commit; a crash then leaves the ledger expecting fewer records than are present (a duplicate, never a
 * false loss).
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
  readonly #file: LedgerFile;
  #t: LedgerTotals = { added: 0, removed: 0 };
  /** Records counted in #t.added whose commit has not returned (at most one group: commits run one at a time). */
  #unsure: UnsureGroup = NO_GROUP;
  /** The unsure group of the newest slot read at open (what the first `reconcile` checks against the file). */
  #openedUnsure: UnsureGroup;
  /** False when the file did not exist or held no valid slot (first start, or an upgrade) until the first reconcile. */
  found: boolean;
  /** Callers of adding/addedAsync whose totals are in memory but not yet in a synced slot. */
  #waiting: (() => void)[] = [];
  /** A group committed while its slot was syncing: write the confirming slot when that sync ends. */
  #confirm = false;
  /** Cancels the armed lazy fdatasync of a confirming slot (null: none armed). */
  #lazyTimer: (() => void) | null = null;
  readonly #setTimer: Clock['setTimer'];

  constructor(path: string, setTimer: Clock['setTimer'] = systemClock.setTimer) {
    this.path = path;
    this.#setTimer = setTimer;
    this.#file = new LedgerFile(path);
    const best = this.#file.opened;
    this.found = best !== null;
    this.#openedUnsure = best?.unsure ?? NO_GROUP;
    if (best) this.#t = { ...best.totals };
  }

  get totals(): LedgerTotals {
    return { ...this.#t };
  }

  /** Records the ledger says are stored now. */
  get expected(): number {
    return this.#t.added - this.#t.removed;
  }

  /** Writes the totals (page cache only); false when the file is broken or closed. */
  #writeSlot(): boolean {
    if (!this.#file.write(this.#t, this.#unsure)) return false;
    if (this.#unsure.records === 0) this.#confirm = false; // this slot confirms every committed group
    return true;
  }

  /** Synchronous write + fdatasync (removals, reconcile, a failed commit). */
  #write(): void {
    if (this.#writeSlot()) this.#file.syncNow();
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
    this.#file.syncAsync(() => {
      // A group that committed meanwhile is confirmed before anyone hears of durability (the 202s).
      if (this.#confirm && this.#waiting.length === 0) this.#writeConfirm();
      this.#confirm = false;
      for (const w of batch) w();
      if (this.#waiting.length > 0) this.#startAsync();
    });
  }

  /** Resolves once a synced slot holds the totals as they are now (never rejects: a broken ledger stops auditing only). */
  #durable(): Promise<void> {
    if (!this.#file.usable) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      if (!this.#file.syncing) this.#startAsync();
    });
  }

  /** The confirming slot: page cache now (a killed process leaves it), fdatasync'ed lazily unless another write comes. */
  #writeConfirm(): void {
    if (!this.#writeSlot() || this.#lazyTimer !== null) return;
    this.#lazyTimer = this.#setTimer(CONFIRM_AFTER_MS, () => {
      this.#lazyTimer = null;
      const f = this.#file;
      if (!f.dirty || !f.usable || f.syncing || this.#waiting.length > 0) return; // that sync or the next carries it
      f.syncAsync(() => {
        if (this.#waiting.length > 0 && !f.syncing) this.#startAsync();
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
    if (this.#file.syncing) this.#confirm = true;
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
   * `countAfter(id)`: records in the file with an id above `id`, to tell whether a group unsure at the crash committed
   * (without it, such a group counts as committed: a gap is then reported as a loss rather than ever hidden).
   */
  reconcile(present: number, countAfter: (id: number) => number = () => Number.POSITIVE_INFINITY): LedgerGap {
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
    this.#cancelLazy();
    if (this.#waiting.length > 0 || this.#confirm) {
      this.#confirm = false;
      this.#write(); // totals still waiting for a slot become durable now
    }
    for (const w of this.#waiting.splice(0)) w();
    this.#file.close();
  }
}
