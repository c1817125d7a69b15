/** In-memory Store (tests, and a fallback when no disk is usable): same semantics as SqliteStore, not durable. */
import { LwError } from '../agent/base/errors.ts';
import { BufferError } from './errors.ts';
import { LaneCounters, mergeDrops } from './lanes.ts';
import { replayRecords, withDeadLetter } from './store-memory-dead.ts';
import { expiredRecords, oldestRecords, type Doomed } from './store-memory-delete.ts';
import { clampRecords, idSlice, MemoryShifts, maxRecordId } from './store-memory-times.ts';
import {
  wholeBody,
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

export interface MemoryStoreOptions {
  /** Simulated medium size: appends that would exceed it throw LW_BUFFER_DISK_FULL (tests). */
  diskBytes?: number;
}

export class MemoryStore implements Store {
  readonly kind = 'memory';
  #records: StoredRecord[] = [];
  #batches: SealedBatch[] = [];
  #dead: DeadLetter[] = [];
  #nextId = 1;
  /** The clock rebase under way and the steps queued for it (not durable: nor is anything else here). */
  readonly #shifts = new MemoryShifts();
  #closed = false;
  readonly #lanes = new LaneCounters();
  readonly #diskBytes: number;
  #short = false;

  constructor(opts: MemoryStoreOptions = {}) {
    this.#diskBytes = opts.diskBytes ?? Number.POSITIVE_INFINITY;
  }

  #open(): void {
    if (this.#closed) throw new LwError(BufferError.UNAVAILABLE, 'telemetry buffer is closed');
  }

  #remove(pred: (r: StoredRecord) => boolean): DropResult[] {
    const gone = this.#records.filter(pred);
    this.#records = this.#records.filter((r) => !pred(r));
    for (const r of gone) this.#lanes.add(r.sink, r.priority, -1, -r.body.byteLength);
    return mergeDrops(gone.map((r) => ({ sink: r.sink, size: r.body.byteLength })));
  }

  /** Deletes the sealed batches and records a delete picked. */
  #drop({ doomed, batches }: Doomed): DropResult[] {
    this.#batches = this.#batches.filter((b) => !batches.has(b.id));
    return this.#remove((r) => doomed.has(r.id));
  }

  appendMany(records: readonly NewRecord[]): number[] {
    this.#open();
    const incoming = records.reduce((n, r) => n + r.body.byteLength, 0);
    if (this.#lanes.total().bytes + incoming > this.#diskBytes) {
      this.#short = true;
      throw new LwError(BufferError.DISK_FULL, 'no space left for the telemetry buffer (simulated)');
    }
    return records.map((r) => {
      const id = this.#nextId++;
      this.#records.push({ ...r, body: Buffer.from(r.body), id, batchId: null });
      this.#lanes.add(r.sink, r.priority, 1, r.body.byteLength);
      return id;
    });
  }

  usage(): Usage {
    return this.#lanes.total();
  }

  depth(): DepthRow[] {
    return this.#lanes.rows().map((l) => ({ ...l, oldestMs: this.#records.find((r) => r.sink === l.sink && r.priority === l.priority)?.createdMs ?? null }));
  }

  sealedBatch(sink: string, priority: number): SealedBatch | null {
    const b = this.#batches.find((x) => x.sink === sink && x.priority === priority);
    return b ? { ...b } : null;
  }

  unsealed(q: UnsealedQuery): StoredRecord[] {
    const out: StoredRecord[] = [];
    let bytes = 0;
    for (const r of this.#records) {
      if (r.sink !== q.sink || r.priority !== q.priority || r.batchId !== null || r.createdMs < (q.minCreatedMs ?? 0)) continue;
      if (out.length >= q.maxRecords || (out.length > 0 && bytes + r.body.byteLength > q.maxBytes)) break;
      bytes += r.body.byteLength;
      out.push({ ...r });
    }
    return out;
  }

  seal(b: Omit<SealedBatch, 'attempts'>, recordIds: readonly number[]): void {
    this.#open();
    const ids = new Set(recordIds);
    this.#batches.push({ ...b, body: Buffer.from(b.body), attempts: 0 });
    for (const r of this.#records) if (ids.has(r.id) && r.batchId === null) r.batchId = b.id;
  }

  ack(batchId: string): DropResult | null {
    this.#open();
    this.#batches = this.#batches.filter((b) => b.id !== batchId);
    return this.#remove((r) => r.batchId === batchId)[0] ?? null;
  }

  unseal(batchId: string): number[] {
    this.#open();
    this.#batches = this.#batches.filter((b) => b.id !== batchId);
    const ids: number[] = [];
    for (const r of this.#records)
      if (r.batchId === batchId) {
        r.batchId = null;
        ids.push(r.id);
      }
    return ids;
  }

  unsealedByIds(ids: readonly number[]): StoredRecord[] {
    const want = new Set(ids);
    return this.#records.filter((r) => want.has(r.id) && r.batchId === null).map((r) => ({ ...r }));
  }

  recordAttempt(batchId: string): void {
    const b = this.#batches.find((x) => x.id === batchId);
    if (b) b.attempts += 1;
  }

  deadLetter(batchId: string, reason: string, status: number | null, nowMs: number): DropResult | null {
    this.#open();
    const b = this.#batches.find((x) => x.id === batchId);
    if (!b) return null;
    this.#batches = this.#batches.filter((x) => x.id !== batchId);
    this.#dead = withDeadLetter(this.#dead, b, reason, status, nowMs);
    return this.#remove((r) => r.batchId === batchId)[0] ?? null;
  }

  dropOldest(freeBytes: number, freeRecords: number): DropResult[] {
    this.#open();
    return this.#drop(oldestRecords(this.#records, freeBytes, freeRecords));
  }

  expire(nowMs: number, maxRecords: number = Number.MAX_SAFE_INTEGER): DropResult[] {
    this.#open();
    return this.#drop(expiredRecords(this.#records, nowMs, maxRecords));
  }

  queueShift(shift: TimeShift): void {
    this.#open();
    this.#shifts.queue(shift);
  }

  beginShift(): ShiftPlan | null {
    this.#open();
    return this.#shifts.begin(this.#records, this.#batches);
  }

  shiftSome(maxRecords: number): ShiftPlan {
    this.#open();
    return this.#shifts.shiftSome(this.#records, maxRecords);
  }

  shiftState(): ShiftState {
    this.#open();
    return this.#shifts.state();
  }

  dropShift(): void {
    this.#shifts.drop();
  }

  clampSome(nowMs: number, expiryCaps: ReadonlyMap<string, number>, afterId: number, untilId: number | null, maxRecords: number): ClampSlice {
    this.#open();
    const last = untilId ?? maxRecordId(this.#records);
    if (afterId === 0) for (const b of this.#batches) b.createdMs = Math.min(b.createdMs, nowMs);
    const slice = idSlice(this.#records, afterId, last, maxRecords);
    return { ...clampRecords(slice.rows, nowMs, expiryCaps), nextAfterId: slice.end >= last ? null : slice.end, untilId: last };
  }

  listRecords(sink: string | null, limit: number): StoredRecord[] {
    return this.#records
      .filter((r) => sink === null || r.sink === sink)
      .slice(0, limit)
      .map((r) => ({ ...r }));
  }

  listDeadLetters(limit: number): DeadLetter[] {
    return [...this.#dead].reverse().slice(0, limit);
  }

  deadLetterCount(): number {
    return this.#dead.length;
  }

  replayDeadLetters(ids: readonly string[] | null, nowMs: number, split: ReplaySplit = wholeBody): ReplayResult {
    this.#open();
    const { chosen, recs } = replayRecords(this.#dead, ids, nowMs, split);
    this.appendMany(recs);
    this.#dead = this.#dead.filter((d) => !chosen.includes(d));
    return { deadLetters: chosen.length, records: recs.length };
  }

  purge(opts: { sink: string | null; records: boolean; deadLetters: boolean }): { records: number; deadLetters: number } {
    this.#open();
    let records = 0;
    let deadLetters = 0;
    if (opts.records) {
      const match = (x: { sink: string }): boolean => opts.sink === null || x.sink === opts.sink;
      this.#batches = this.#batches.filter((b) => !match(b));
      records = this.#remove(match).reduce((n, d) => n + d.records, 0);
    }
    if (opts.deadLetters) {
      deadLetters = this.#dead.length;
      this.#dead = [];
    }
    return { records, deadLetters };
  }

  /** Simulated: short after a full append until half the medium is free again. */
  spaceShort(): boolean {
    if (this.#short && this.#lanes.total().bytes <= this.#diskBytes / 2) this.#short = false;
    return this.#short;
  }

  maintenance(): void {}

  close(): void {
    this.#closed = true;
  }
}
