/** The Store port (records, sealed batches, dead letters) shared by the SQLite and in-memory implementations. */

/**
 * Largest batch sealed while the disk is short of space, and the largest a store may seal with its disk-full reserve:
 * sealing copies the bodies, so a larger seal on a full disk would eat the room its own acknowledgement needs.
 */
export const SHORT_SPACE_BATCH_BYTES = 64 * 1024;

/** A record to store: one ingested body, kept byte for byte with its content headers. */
export interface NewRecord {
  sink: string;
  /** 0 = high, 1 = normal, 2 = low (PRIORITY_RANK). */
  priority: number;
  createdMs: number;
  /** Drop after this time (null: no TTL). */
  expiresMs: number | null;
  contentType: string | null;
  contentEncoding: string | null;
  body: Uint8Array;
}

export interface StoredRecord extends NewRecord {
  id: number;
  /** Sealed into this batch (null: not yet). */
  batchId: string | null;
}

/** A request body built from records, stored so re-sends are byte-identical under the same id. */
export interface SealedBatch {
  id: string;
  sink: string;
  priority: number;
  createdMs: number;
  contentType: string | null;
  contentEncoding: string | null;
  body: Uint8Array;
  recordCount: number;
  attempts: number;
}

export interface DeadLetter {
  id: string;
  sink: string;
  priority: number;
  failedMs: number;
  status: number | null;
  reason: string;
  recordCount: number;
  contentType: string | null;
  contentEncoding: string | null;
  body: Uint8Array;
}

/** Cuts a dead letter into record bodies (buffer/resplit.ts). */
export type ReplaySplit = (d: DeadLetter) => { contentType: string | null; contentEncoding: string | null; body: Uint8Array }[];

/** The default split: the dead letter's body goes back as one record. */
export const wholeBody: ReplaySplit = (d) => [{ contentType: d.contentType, contentEncoding: d.contentEncoding, body: d.body }];

export interface ReplayResult {
  deadLetters: number;
  records: number;
}

/** Depth of one sink + priority lane. */
export interface DepthRow {
  sink: string;
  priority: number;
  records: number;
  bytes: number;
  /** createdMs of the oldest record (null when empty). */
  oldestMs: number | null;
}

/** What a drop removed, per sink (the caller counts it under a reason). */
export interface DropResult {
  sink: string;
  records: number;
  bytes: number;
}

export interface Usage {
  records: number;
  /** Payload bytes of stored records (the bound is on these). */
  bytes: number;
}

/** Options of `unsealed`: the oldest records of one lane, up to limits. */
export interface UnsealedQuery {
  sink: string;
  priority: number;
  maxRecords: number;
  maxBytes: number;
  /** Only records created at or after this time (live lane). */
  minCreatedMs?: number;
}

/** Rows created at or before `cutoffMs` move by `deltaMs` (created and expiry): the rebase after a forward wall-clock step. */
export interface TimeShift {
  deltaMs: number;
  cutoffMs: number;
}

/**
 * A clock rebase under way, stored with the records: a stop, crash or power cut part-way resumes it at the next open.
 * Without it the records not yet reached would keep old-frame times, and a forward step of days would expire them all.
 */
export interface ShiftPlan {
  /** Applied in order to each record (buffer/clock-step.ts). */
  shifts: TimeShift[];
  /** The highest record id when the plan began: records stored later are in the new frame and never move. */
  lastId: number;
  /** Records with ids up to this one are done. */
  doneId: number;
  /** Records moved so far (by the last shift: its cutoff covers every row an earlier one moved). */
  moved: number;
}

/** Rows whose times a clamp lowered. */
export interface ClampResult {
  /** Records whose created_ms was in the future. */
  created: number;
  /** Records whose expires_ms was beyond now + their sink's TTL. */
  expires: number;
}

/** The clock rebase stored with the records: the plan under way, and forward steps seen and not yet begun. */
export interface ShiftState {
  plan: ShiftPlan | null;
  queued: TimeShift[];
}

/** One slice of a clamp: what it lowered, the id the next slice starts after (null: this was the last), its last id. */
export interface ClampSlice extends ClampResult {
  nextAfterId: number | null;
  /** The highest record id when the clamp began (pass it back): records stored during the clamp are left alone. */
  untilId: number;
}

/** Records committed by Store.appendGroup: their ids, and when the bookkeeping an acknowledgement waits for is durable. */
export interface AppendedGroup {
  ids: number[];
  durable: Promise<void>;
}

/**
 * Storage of the buffer. Every method is synchronous and atomic (one transaction). Implementations
 * throw LwError LW_BUFFER_DISK_FULL when the medium is full and LW_BUFFER_UNAVAILABLE when closed.
 */
export interface Store {
  readonly kind: string;
  /** Appends records in one durable transaction; returns their ids in order. */
  appendMany(records: readonly NewRecord[]): number[];
  /** Same, committed off the event loop (present only when the store has a writer thread). */
  readonly appendManyAsync?: (records: readonly NewRecord[]) => Promise<number[]>;
  /**
   * Same transaction, committed now, with what must still become durable before an acknowledgement (the record
   * ledger's sync) left to finish off the event loop: acknowledge only once `durable` resolves.
   */
  appendGroup?(records: readonly NewRecord[]): AppendedGroup;
  usage(): Usage;
  depth(): DepthRow[];
  /** Oldest sealed batch of a lane (null: none). */
  sealedBatch(sink: string, priority: number): SealedBatch | null;
  /** Oldest not-yet-sealed records of a lane, within limits (at least one when any exists). */
  unsealed(q: UnsealedQuery): StoredRecord[];
  /**
   * Stores a batch and marks its records as sealed into it. On a full disk only a batch of at most
   * SHORT_SPACE_BATCH_BYTES may use the store's reserve; a larger one throws LW_BUFFER_DISK_FULL (seal a smaller one).
   */
  seal(batch: Omit<SealedBatch, 'attempts'>, recordIds: readonly number[]): void;
  /** Delivered: deletes the batch and its records. */
  ack(batchId: string): DropResult | null;
  /** Returns a batch's records to the unsealed pool (bisection) and deletes the batch; returns their ids in order. */
  unseal(batchId: string): number[];
  /** The not-yet-sealed records among `ids`, oldest first (a bisection seals exactly the pieces of a refused batch). */
  unsealedByIds(ids: readonly number[]): StoredRecord[];
  /** Counts one failed attempt. */
  recordAttempt(batchId: string): void;
  /**
   * Moves a batch to the dead letters and deletes its records. The body is copied, so on a full disk the same rule as
   * `seal` holds (only a batch of at most SHORT_SPACE_BATCH_BYTES may use the reserve): LW_BUFFER_DISK_FULL otherwise.
   */
  deadLetter(batchId: string, reason: string, status: number | null, nowMs: number): DropResult | null;
  /** Deletes oldest records (lowest priority first, whole sealed batches) until the freed amounts are reached. */
  dropOldest(freeBytes: number, freeRecords: number): DropResult[];
  /** Deletes records whose TTL passed (with the batches they are sealed into), about `maxRecords` per call. */
  expire(nowMs: number, maxRecords?: number): DropResult[];
  /**
   * One transaction: stores a forward step's shift in the queue kept with the records, the moment the step is seen, so
   * a stop before (or while) its rebase runs loses nothing: the next open finds it in `shiftState`.
   */
  queueShift(shift: TimeShift): void;
  /**
   * Rebase after forward clock steps, in slices so no transaction rewrites the whole buffer (ClockRebaser). One
   * transaction: turns the queued shifts into a plan over the records up to the highest id now, moves the sealed
   * batches created at or before each cutoff, and empties the queue. Null when nothing is queued. Throws while a plan
   * is under way (finish it first: its shifts come before the queued ones).
   */
  beginShift(): ShiftPlan | null;
  /**
   * One transaction: applies the plan's shifts, in order, to up to `maxRecords` more of its records (those created at
   * or before a shift's cutoff move by its delta, expiry too) and returns the plan as it now stands. Once `doneId`
   * reaches `lastId` the plan is finished and no longer stored. Dead letters keep their times.
   */
  shiftSome(maxRecords: number): ShiftPlan;
  /** The stored plan and queue. Throws LW_BUFFER_CORRUPT when they cannot be read. */
  shiftState(): ShiftState;
  /** Forgets a stored plan and queue that cannot be read (the caller logs what that leaves unmoved). */
  dropShift(): void;
  /**
   * One transaction over up to `maxRecords` records with ids above `afterId` and at most `untilId` (null: the highest
   * id now, returned for the next slices): created times after `nowMs` become `nowMs`; each sink in `expiryCaps` gets
   * no record expiring after its cap (other sinks' expiry is left alone). The first slice (`afterId` 0) clamps the
   * sealed batches' created times too.
   */
  clampSome(nowMs: number, expiryCaps: ReadonlyMap<string, number>, afterId: number, untilId: number | null, maxRecords: number): ClampSlice;
  listRecords(sink: string | null, limit: number): StoredRecord[];
  listDeadLetters(limit: number): DeadLetter[];
  deadLetterCount(): number;
  /**
   * Moves dead letters back into the records (ids null: all), each cut by `split` into the records it held (default:
   * one record, the body as it is). Returns how many dead letters and how many records that made.
   */
  replayDeadLetters(ids: readonly string[] | null, nowMs: number, split?: ReplaySplit): ReplayResult;
  /** Deletes records (of one sink or all) and/or dead letters; returns what was removed. */
  purge(opts: { sink: string | null; records: boolean; deadLetters: boolean }): { records: number; deadLetters: number };
  /**
   * True while the medium is too full for appends: reject-new refuses them without touching the disk and drop-oldest
   * evicts first, so appends never take the room deletes (acknowledgements) need. Cleared when space returns.
   */
  spaceShort(): boolean;
  /** Reclaims free pages and trims the WAL (no-op for memory). */
  maintenance(): void;
  close(): void;
}
