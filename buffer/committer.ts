/** Group commit: records queued in the same few ms share one durable transaction; bounds and drops applied there. */
import type { Clock } from '../agent/base/clock.ts';
import { LwError, isLwError } from '../agent/base/errors.ts';
import { admit, type Limits } from './bounds.ts';
import { BufferError } from './errors.ts';
import type { DropResult, NewRecord, Store } from './types.ts';

/** On disk full under drop-oldest, evict at least this much before the one retry, so SQLite has room for its WAL frames. */
export const DISK_FULL_EVICT_BYTES = 1024 * 1024;

/** Why records were dropped (label values of linkward_buffer_dropped_records_total). */
export type DropReason = 'overflow' | 'rejected_full' | 'disk_full' | 'ttl' | 'dead_letter' | 'purged';

export interface CommitHooks {
  onDrop(sink: string, reason: DropReason, records: number, bytes: number): void;
  /** One shared transaction finished (seconds it took, records in it). */
  onCommit(seconds: number, records: number): void;
  /** Records became durable: how many per sink (wakes forwarders, counts ingest). */
  onAppended(perSink: ReadonlyMap<string, number>): void;
}

export interface CommitOptions {
  maxDelayMs: number;
  maxRecords: number;
  limits: Limits;
}

interface Pending {
  rec: NewRecord;
  resolve: (id: number) => void;
  reject: (e: unknown) => void;
}

export class GroupCommitter {
  readonly #store: Store;
  readonly #opts: CommitOptions;
  readonly #hooks: CommitHooks;
  readonly #clock: Clock;
  #queue: Pending[] = [];
  #scheduled = false;
  /** A writer-thread commit or a ledger sync is running; new records wait and form the next (larger) group. */
  #inFlight = false;
  #idleWaiters: (() => void)[] = [];

  constructor(store: Store, opts: CommitOptions, hooks: CommitHooks, clock: Clock) {
    this.#store = store;
    this.#opts = opts;
    this.#hooks = hooks;
    this.#clock = clock;
  }

  /** Queues one record; resolves with its id once committed (durable), rejects with LW_BUFFER_FULL / LW_BUFFER_DISK_FULL. */
  append(rec: NewRecord): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ rec, resolve, reject });
      if (this.#queue.length >= this.#opts.maxRecords) this.flush();
      else this.#schedule();
    });
  }

  /** Pending records not yet committed. */
  get pending(): number {
    return this.#queue.length;
  }

  #schedule(): void {
    if (this.#scheduled || this.#queue.length === 0) return;
    this.#scheduled = true;
    const run = (): void => {
      this.#scheduled = false;
      this.flush();
    };
    if (this.#opts.maxDelayMs <= 0) setImmediate(run);
    else this.#clock.setTimer(this.#opts.maxDelayMs, run);
  }

  #drops(list: DropResult[], reason: DropReason): void {
    for (const d of list) this.#hooks.onDrop(d.sink, reason, d.records, d.bytes);
  }

  /** Commits up to maxRecords queued records now (one transaction); with a writer thread, starts that commit. */
  flush(): void {
    if (this.#inFlight) return; // the running commit schedules the next group when it ends
    const group = this.#queue.splice(0, this.#opts.maxRecords);
    if (this.#queue.length > 0) this.#schedule();
    if (group.length === 0) return;
    const t0 = this.#clock.monoMs();
    const { limits } = this.#opts;
    let accepted = group;
    if (limits.policy === 'reject-new' && this.#store.spaceShort()) {
      // The disk is full: appending would only take the room acknowledgements need. Refuse without writing.
      this.#refuse(
        group,
        'disk_full',
        new LwError(
          BufferError.DISK_FULL,
          'no space left for the telemetry buffer (policy reject-new); it resumes when sending or freed disk space makes room',
        ),
      );
      this.#hooks.onCommit((this.#clock.monoMs() - t0) / 1000, 0);
      return;
    }
    try {
      const a = admit(
        this.#store.usage(),
        group.map((p) => p.rec.body.byteLength),
        limits,
      );
      if (a.freeBytes > 0 || a.freeRecords > 0) this.#drops(this.#store.dropOldest(a.freeBytes, a.freeRecords), 'overflow');
      accepted = group.slice(0, a.accept);
      if (a.accept < group.length)
        this.#refuse(
          group.slice(a.accept),
          'rejected_full',
          new LwError(BufferError.FULL, `telemetry buffer is full (buffer.maxBytes=${limits.maxBytes}, policy reject-new); retry later`),
        );
      if (this.#store.appendManyAsync) {
        this.#inFlight = true;
        this.#commitAsync(accepted)
          .then(
            (ids) => this.#done(accepted, ids, t0),
            (e: unknown) => this.#failed(accepted, e),
          )
          .finally(() => this.#settled());
        return;
      }
      const g = this.#commit(accepted);
      if (g.durable === null) this.#done(accepted, g.ids, t0);
      else this.#settleLater(accepted, g.ids, g.durable, t0);
    } catch (e) {
      this.#failed(accepted, e);
    }
  }

  /** Resolves once nothing is queued or being committed (used at stop). */
  async drain(): Promise<void> {
    for (let i = 0; i < 1_000 && (this.#inFlight || this.#queue.length > 0); i++) {
      if (!this.#inFlight) this.flush();
      if (this.#inFlight) await new Promise<void>((r) => this.#idleWaiters.push(r));
    }
  }

  /**
   * Committed: counted and forwarders woken now; the records' promises resolve (202) once `durable` does (the ledger's
   * sync, off the event loop). The next group waits for that too, like a writer-thread commit: requests arriving
   * meanwhile form one larger group, and this group's acknowledgements never wait behind the next commit (measured:
   * ~31 instead of ~21 records per commit, 48 instead of 54 µs of server CPU per request).
   */
  #settleLater(accepted: Pending[], ids: number[], durable: Promise<void>, t0: number): void {
    this.#hooks.onCommit((this.#clock.monoMs() - t0) / 1000, accepted.length);
    this.#appended(accepted);
    this.#inFlight = true;
    void durable
      .then(
        () => {
          for (let i = 0; i < accepted.length; i++) accepted[i]!.resolve(ids[i]!);
        },
        // stored, but not known durable: the senders hear so and retry (a duplicate at worst, never a false 202)
        (e: unknown) => {
          for (const p of accepted) p.reject(e);
        },
      )
      .finally(() => this.#settled());
  }

  /** A commit that ran off the event loop (or waited for its ledger sync) ended: the next group may go. */
  #settled(): void {
    this.#inFlight = false;
    this.#schedule();
    for (const w of this.#idleWaiters.splice(0)) w();
  }

  #done(accepted: Pending[], ids: number[], t0: number): void {
    accepted.forEach((p, i) => p.resolve(ids[i]!));
    this.#hooks.onCommit((this.#clock.monoMs() - t0) / 1000, accepted.length);
    this.#appended(accepted);
  }

  #appended(accepted: Pending[]): void {
    if (accepted.length === 0) return;
    const perSink = new Map<string, number>();
    for (const p of accepted) perSink.set(p.rec.sink, (perSink.get(p.rec.sink) ?? 0) + 1);
    this.#hooks.onAppended(perSink);
  }

  #failed(accepted: Pending[], e: unknown): void {
    if (isLwError(e, BufferError.DISK_FULL)) this.#refuse(accepted, 'disk_full', e);
    else for (const p of accepted) p.reject(e);
  }

  /** Evicts for a full disk before the one retry (drop-oldest only); rethrows `e` when that is not possible. */
  #makeRoom(recs: readonly NewRecord[], e: unknown): void {
    if (!isLwError(e, BufferError.DISK_FULL) || this.#opts.limits.policy !== 'drop-oldest') throw e;
    const need = Math.max(DISK_FULL_EVICT_BYTES, recs.reduce((n, r) => n + r.body.byteLength, 0) * 2);
    try {
      this.#drops(this.#store.dropOldest(need, 0), 'disk_full');
      this.#store.maintenance();
    } catch {
      throw e;
    }
  }

  /** drop-oldest on a disk still short of space: evict before writing, so the append reuses freed pages. */
  #preEvict(recs: readonly NewRecord[]): void {
    if (this.#opts.limits.policy !== 'drop-oldest' || !this.#store.spaceShort()) return;
    try {
      this.#makeRoom(recs, new LwError(BufferError.DISK_FULL, 'disk short of space'));
    } catch {
      /* nothing to evict: the append says whether it fits */
    }
  }

  /** appendGroup (or appendMany), with one eviction + retry on disk full when the policy allows dropping. */
  #commit(group: Pending[]): { ids: number[]; durable: Promise<void> | null } {
    const recs = group.map((p) => p.rec);
    this.#preEvict(recs);
    try {
      return this.#append(recs);
    } catch (e) {
      this.#makeRoom(recs, e);
      return this.#append(recs);
    }
  }

  #append(recs: NewRecord[]): { ids: number[]; durable: Promise<void> | null } {
    if (this.#store.appendGroup) return this.#store.appendGroup(recs);
    return { ids: this.#store.appendMany(recs), durable: null };
  }

  /** The same through the writer thread. */
  async #commitAsync(group: Pending[]): Promise<number[]> {
    const recs = group.map((p) => p.rec);
    const append = this.#store.appendManyAsync!;
    this.#preEvict(recs);
    try {
      return await append(recs);
    } catch (e) {
      this.#makeRoom(recs, e);
      return append(recs);
    }
  }

  #refuse(list: Pending[], reason: DropReason, err: unknown): void {
    const bySink = new Map<string, { n: number; b: number }>();
    for (const p of list) {
      const s = bySink.get(p.rec.sink) ?? { n: 0, b: 0 };
      s.n += 1;
      s.b += p.rec.body.byteLength;
      bySink.set(p.rec.sink, s);
      p.reject(err);
    }
    for (const [sink, s] of bySink) this.#hooks.onDrop(sink, reason, s.n, s.b);
  }
}
