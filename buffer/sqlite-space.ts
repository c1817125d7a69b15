/** Disk-space guard of the SQLite store: a ballast file kept for deletes, and the "space short" state that appends respect. */
import { existsSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Ballast file size kept next to the database: released only so deletes (acks, evictions) can commit on a full disk. */
export const RESERVE_BYTES = 2 * 1024 * 1024;
/** Free space needed beyond the ballast before appends are tried again: room for a few group commits' WAL frames. */
export const SPACE_MARGIN_BYTES = 512 * 1024;
/** A short-of-space store re-reads free space at most this often (statfs is cheap, but appends may come in thousands/s). */
const RECHECK_INTERVAL_MS = 250;

export class SpaceGuard {
  readonly #reservePath: string | null;
  #short = false;
  #checkedAt = 0;

  /** `reservePath` null: no ballast and no free-space checks (in-memory databases). */
  constructor(reservePath: string | null) {
    this.#reservePath = reservePath;
    this.ensure();
  }

  /** An append hit a full disk: appends are refused or preceded by evictions until space returns. */
  markShort(): void {
    this.#short = true;
    this.#checkedAt = performance.now();
  }

  /** Frees the ballast so a delete can commit (its WAL frames need a little room). */
  release(): void {
    if (this.#reservePath !== null) rmSync(this.#reservePath, { force: true });
  }

  /** Whether the ballast file is in place (always true without a path). */
  hasBallast(): boolean {
    return this.#reservePath === null || existsSync(this.#reservePath);
  }

  /** Re-creates the ballast when there is room (best effort); true when it exists. */
  ensure(): boolean {
    const p = this.#reservePath;
    if (p === null) return true;
    if (existsSync(p)) return true;
    try {
      writeFileSync(p, Buffer.alloc(RESERVE_BYTES));
      return true;
    } catch {
      rmSync(p, { force: true });
      return false;
    }
  }

  /** Bytes free for this process under the database's directory (Infinity without a path). */
  free(): number {
    if (this.#reservePath === null) return Number.POSITIVE_INFINITY;
    const s = statfsSync(dirname(this.#reservePath));
    return s.bavail * s.bsize;
  }

  /**
   * Whether appends should not use the disk now. Cleared once the ballast is back and a margin is free beyond it,
   * so appends never eat the room an acknowledgement needs.
   */
  short(): boolean {
    if (!this.#short) return false;
    const now = performance.now();
    if (now - this.#checkedAt < RECHECK_INTERVAL_MS) return true;
    this.#checkedAt = now;
    try {
      const hasBallast = this.hasBallast();
      const need = SPACE_MARGIN_BYTES + (hasBallast ? 0 : RESERVE_BYTES);
      if (this.free() >= need && this.ensure()) this.#short = false;
    } catch {
      /* statfs failed: stay short */
    }
    return this.#short;
  }

  /** Short without re-checking (for decisions that must not touch the disk). */
  get isShort(): boolean {
    return this.#short;
  }
}
