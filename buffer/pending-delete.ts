/** The one batch a forwarder is done with (delivered, or refused with no room for its dead letter) until its deletion is stored. */
import { isLwError, messageOf } from '../agent/base/errors.ts';
import type { Logger } from '../agent/base/log.ts';
import { BufferError } from './errors.ts';
import type { SealedBatch, Store } from './types.ts';

/** Retry delay after a deletion failed on a full disk: sending (and the reclaim after each delete) is what frees space. */
export const DISK_FULL_RETRY_MS = 200;
/** Longest wait between attempts to store a deletion on a full disk (the batch is never re-sent meanwhile). */
export const DELETE_RETRY_MAX_MS = 5_000;

export interface DoneBatch {
  id: string;
  priority: number;
  records: number;
  bytes: number;
  /** Record ids of the batch (a bisection's plan settles them). */
  ids: number[];
  /** True: refused and dropped (no room for the dead letter); false: delivered. */
  dropped: boolean;
}

/**
 * Holds at most one done batch whose deletion could not be stored (disk full). The forwarder stores it before it
 * sends anything else, so a delivered batch is never re-sent and counts as sent only once its deletion is stored.
 */
export class PendingDelete {
  readonly #store: Store;
  readonly #log: Logger;
  readonly #sink: string;
  #batch: DoneBatch | null = null;
  #attempts = 0;
  /** Why the last attempt failed (null: none failed, or the batch is stored). */
  lastError: string | null = null;

  constructor(store: Store, log: Logger, sink: string) {
    this.#store = store;
    this.#log = log;
    this.#sink = sink;
  }

  /** Failed attempts of the batch waiting (0: none waits). */
  get attempts(): number {
    return this.#batch === null ? 0 : this.#attempts;
  }

  get waiting(): boolean {
    return this.#batch !== null;
  }

  /** A batch is done with: its deletion is tried now (`store`) and, on a full disk, before every later step. */
  hold(batch: SealedBatch, ids: number[], dropped: boolean): void {
    this.#batch = { id: batch.id, priority: batch.priority, records: batch.recordCount, bytes: batch.body.byteLength, ids, dropped };
    this.#attempts = 0;
  }

  /** Deletes the batch waiting; returns it once stored, null while the disk is still full. */
  store(): DoneBatch | null {
    const b = this.#batch;
    if (b === null) return null;
    try {
      this.#store.ack(b.id);
    } catch (e) {
      if (!isLwError(e, BufferError.DISK_FULL)) throw e;
      this.#attempts += 1;
      this.lastError = messageOf(e);
      // first failure and then every doubling: a disk that stays full is visible without flooding the log
      if ((this.#attempts & (this.#attempts - 1)) === 0)
        this.#log.warn(
          { sink: this.#sink, batch: b.id, attempts: this.#attempts },
          `${b.dropped ? 'refused' : 'delivered'} batch: its deletion cannot be stored yet (disk full); not re-sent`,
        );
      return null;
    }
    this.#batch = null;
    this.lastError = null;
    return b;
  }

  /** Wait before the next attempt: 200 ms, doubling to 5 s. */
  retryDelayMs(): number {
    return Math.min(DELETE_RETRY_MAX_MS, DISK_FULL_RETRY_MS * 2 ** Math.min(10, Math.max(0, this.#attempts - 1)));
  }
}
