/** The record ledger's file: two slot positions, written so that the newest durable slot is never overwritten. */
import { closeSync, existsSync, fdatasync, fdatasyncSync, openSync, readSync, writeSync } from 'node:fs';
import { encodeSlot, type FoundSlot, HEAD_BYTES, type LedgerTotals, newestSlot, SLOT_BYTES, slotOffset, type UnsureGroup } from './ledger-slot.ts';

/**
 * Every write goes to the position that is not the newest durable slot; an fdatasync with no write after its start
 * makes the written one the newest durable slot. A torn write therefore always leaves a valid slot to read.
 * A broken file (a failed write or sync) stops taking writes: the ledger then stops auditing, it never blocks.
 */
export class LedgerFile {
  /** The newest valid slot found at open (null: a new file, or none readable). */
  readonly opened: FoundSlot | null;
  #fd: number;
  /** Generation of the newest slot written. */
  #gen = 0;
  /** Position (0/1) of the newest durable slot, never overwritten (-1: none in this layout yet). */
  #durablePos = -1;
  /** Position of the newest slot written; it is durable once `dirty` is false. */
  #writtenPos = -1;
  #dirty = false;
  #syncing = false;
  /** Why the file stopped being written (null: fine). */
  broken: string | null = null;

  constructor(path: string) {
    const existed = existsSync(path);
    this.#fd = openSync(path, existed ? 'r+' : 'w+');
    const head = Buffer.alloc(HEAD_BYTES);
    if (existed) readSync(this.#fd, head, 0, head.length, 0);
    this.opened = existed ? newestSlot(head) : null;
    if (this.opened) {
      this.#gen = this.opened.gen;
      this.#durablePos = this.opened.pos;
      this.#writtenPos = this.opened.pos;
    }
  }

  get usable(): boolean {
    return this.broken === null && this.#fd >= 0;
  }

  /** A slot was written and not yet made durable. */
  get dirty(): boolean {
    return this.#dirty;
  }

  /** An fdatasync runs on the thread pool. */
  get syncing(): boolean {
    return this.#syncing;
  }

  /** Writes a slot (page cache only); false when broken or closed. */
  write(totals: LedgerTotals, unsure: UnsureGroup): boolean {
    if (!this.usable) return false;
    const pos = this.#durablePos === 0 ? 1 : 0;
    this.#gen = (this.#gen + 1) >>> 0;
    try {
      writeSync(this.#fd, encodeSlot({ gen: this.#gen, totals, unsure }), 0, SLOT_BYTES, slotOffset(pos));
    } catch (e) {
      this.broken = (e as Error).message;
      return false;
    }
    this.#writtenPos = pos;
    this.#dirty = true;
    return true;
  }

  /** An fdatasync that started at generation `gen` ended: if nothing was written since, that slot is the durable one. */
  #synced(gen: number): void {
    if (gen !== this.#gen || !this.#dirty) return;
    this.#dirty = false;
    this.#durablePos = this.#writtenPos;
  }

  /** fdatasync now, on the calling thread. */
  syncNow(): void {
    if (!this.usable) return;
    try {
      fdatasyncSync(this.#fd);
      this.#synced(this.#gen);
    } catch (e) {
      this.broken = (e as Error).message;
    }
  }

  /** fdatasync on the thread pool of what is written now; `done` runs when it ends (also on error or once broken). */
  syncAsync(done: () => void): void {
    if (!this.usable) return done();
    const gen = this.#gen;
    this.#syncing = true;
    fdatasync(this.#fd, (err) => {
      this.#syncing = false;
      if (err) {
        if (this.usable) this.broken = err.message;
      } else this.#synced(gen);
      done();
    });
  }

  /** Makes what was written durable, then closes. */
  close(): void {
    if (this.#fd < 0) return;
    if (this.#dirty || this.#syncing) this.syncNow();
    closeSync(this.#fd);
    this.#fd = -1;
  }
}
