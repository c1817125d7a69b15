/** One sink's forwarding loop: pick the lane the gate allows, seal, pace, send, then ack / retry / bisect / dead-letter. */
import { StepLoop } from '../agent/base/step-loop.ts';
import { isLwError, messageOf } from '../agent/base/errors.ts';
import { BufferError } from './errors.ts';
import { DISK_FULL_RETRY_MS, PendingDelete, type DoneBatch } from './pending-delete.ts';
import { nextDelayMs, parseRetryAfterMs } from './backoff.ts';
import { LanePlans } from './bisect.ts';
import { createPaceBucket, pacedBatchBytes, paceTurn, wireBytes, type PaceBucket } from './pacer.ts';
import { classify, type Verdict } from './protocols.ts';
import { describeOutcome, refusalReason } from './upstream-text.ts';
import { buildBatch, leadingWithin } from './sealer.ts';
import { SHORT_SPACE_BATCH_BYTES, type SealedBatch, type StoredRecord, type UnsealedQuery } from './types.ts';
import type { ForwarderDeps, ForwarderStatus } from './forwarder-types.ts';

export type { ForwarderDeps, ForwarderHooks, ForwarderStatus } from './forwarder-types.ts';

/** Longest Retry-After obeyed: a server may ask for minutes; an hour bounds a misconfigured one. */
export const RETRY_AFTER_MAX_MS = 3_600_000;

export class SinkForwarder {
  readonly #d: ForwarderDeps;
  #attempts = 0;
  #backoffUntil = 0;
  #nextCanary = 0;
  #splitLimit = Number.POSITIVE_INFINITY;
  /** Bisection plans per priority lane (record ids of the next batches) after a permanent refusal. */
  readonly #plans = new LanePlans();
  /** Record ids of the batch in flight (sealed by this forwarder; unknown for one found sealed at start). */
  #sealedIds = new Map<string, number[]>();
  /** A done batch whose deletion is not stored yet (disk full): stored before anything is sent. */
  readonly #done: PendingDelete;
  readonly #pace: PaceBucket;
  #force = false;
  readonly #steps: StepLoop;
  #abort = new AbortController();
  #status: Omit<ForwarderStatus, 'sink' | 'attempts' | 'backoffMs' | 'ackPendingAttempts'> = {
    lastStatus: null,
    lastError: null,
    lastSuccessMs: null,
    sentBatches: 0,
    lastStepError: null,
  };

  constructor(deps: ForwarderDeps) {
    this.#d = deps;
    this.#pace = deps.pace ?? createPaceBucket();
    this.#done = new PendingDelete(deps.store, deps.log, deps.sink.name);
    this.#steps = new StepLoop({ clock: deps.clock, step: () => this.step(), onError: (e) => this.#stepFailed(e) });
  }

  get sink(): string {
    return this.#d.sink.name;
  }

  status(): ForwarderStatus {
    return {
      sink: this.sink,
      attempts: this.#attempts,
      backoffMs: Math.max(0, this.#backoffUntil - this.#d.clock.monoMs()),
      ackPendingAttempts: this.#done.attempts,
      ...this.#status,
      lastStepError: this.#done.lastError ?? this.#status.lastStepError,
    };
  }

  /** New records, a link change or a flush request: re-evaluate now. */
  wake(): void {
    this.#steps.wake(); // during a step: the next sleep returns at once
  }

  /** The active uplink changed: the sender opens new connections (the new route's source address) for the next batches. */
  uplinkChanged(): void {
    this.#d.sender.reconnect?.();
    this.wake();
  }

  /** Clears backoff and (force) ignores the gate and pacing for the next batches until the sink is empty or fails. */
  flushNow(force: boolean): void {
    this.#backoffUntil = 0;
    this.#nextCanary = 0;
    this.#force = force;
    this.wake();
  }

  start(): void {
    if (this.#steps.running) return;
    this.#abort = new AbortController();
    this.#steps.start();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    // Close the connections together with the loop, not after it: undici ignores the abort signal while a connection
    // is still being opened, so a send to an unreachable sink (SYN unanswered, link down) held the loop, and with it
    // the agent's stop, until connectMs (10 s) ran out (issue 13). Destroying the pool fails that send at once; its
    // records were never acknowledged by the sink and stay in the store.
    await Promise.all([this.#steps.stop(), this.#d.sender.close()]);
  }

  /** A step threw: logged, and the wait before the next one. */
  #stepFailed(e: unknown): number {
    this.#status.lastStepError = messageOf(e);
    this.#d.log.warn(
      { sink: this.sink, err: messageOf(e), cause: (e as { cause?: { code?: string; message?: string } }).cause?.message },
      'forwarder step failed; retrying',
    );
    // Disk full: sending is what frees space, so retry soon (the store has truncated its WAL meanwhile).
    return isLwError(e, BufferError.DISK_FULL) ? DISK_FULL_RETRY_MS : this.#d.cfg.flush.pollMs;
  }

  /** Oldest sealed batch of the best allowed lane, sealing one when the lane has only loose records. */
  #nextBatch(maxPriority: number, nowMs: number, pacedBytes: number): SealedBatch | null {
    const { store, sink } = this.#d;
    for (let p = 0; p <= maxPriority; p++) {
      const sealed = store.sealedBatch(sink.name, p);
      if (sealed) return sealed;
      // Paced: a batch is one slice of the pace bucket, so no second of the flush exceeds its share of the uplink.
      const maxBytes = Math.min(sink.batchMaxBytes, pacedBytes, store.spaceShort() ? SHORT_SPACE_BATCH_BYTES : Number.POSITIVE_INFINITY);
      const q = { sink: sink.name, priority: p, maxRecords: Math.min(sink.batchMaxRecords, this.#splitLimit), maxBytes };
      const piece = this.#bisecting(p);
      const recs = piece ? leadingWithin(piece, q.maxRecords, q.maxBytes) : this.#loose(q, nowMs);
      const built = buildBatch(sink, recs, nowMs);
      if (built) {
        store.seal(built.batch, built.recordIds);
        this.#sealedIds.set(built.batch.id, built.recordIds);
        return { ...built.batch, attempts: 0 };
      }
    }
    return null;
  }

  /** While a bisection runs in this lane: exactly the records of its next piece (within the byte limit of the sealer). */
  #bisecting(priority: number): StoredRecord[] | null {
    for (let head = this.#plans.head(priority); head; head = this.#plans.head(priority)) {
      const recs = this.#d.store.unsealedByIds(head);
      if (recs.length > 0) return recs;
      this.#plans.settled(priority, head); // evicted or expired meanwhile
    }
    return null;
  }

  #loose(q: UnsealedQuery, nowMs: number): StoredRecord[] {
    const { store, cfg } = this.#d;
    const live = cfg.flush.liveFirst ? store.unsealed({ ...q, minCreatedMs: nowMs - cfg.flush.liveWindowMs }) : [];
    return live.length > 0 ? live : store.unsealed(q);
  }

  /** Stores the deletion of the done batch; false (kept for the next step, never re-sent) while the disk is full. */
  #recordAck(): boolean {
    const b: DoneBatch | null = this.#done.store();
    if (b === null) return !this.#done.waiting;
    this.#status.lastStepError = null;
    this.#sealedIds.delete(b.id);
    this.#plans.settled(b.priority, b.ids);
    if (b.dropped) this.#d.hooks.onDeadLetter(this.sink, b.records, b.bytes, false);
    else this.#d.hooks.onDelivered(this.sink, b.records);
    return true;
  }

  /** Moves a refused batch to the dead letters; false when the full disk cannot hold that copy. */
  #deadLetter(batch: SealedBatch, reason: string, status: number | null, nowMs: number): boolean {
    try {
      this.#d.store.deadLetter(batch.id, reason, status, nowMs);
      return true;
    } catch (e) {
      if (!isLwError(e, BufferError.DISK_FULL)) throw e;
      return false;
    }
  }

  /** The batch is done with (delivered, or `dropped`): its deletion is stored before anything else is sent. */
  #settleLater(batch: SealedBatch, dropped: boolean): void {
    this.#done.hold(batch, this.#sealedIds.get(batch.id) ?? [], dropped);
  }

  /** One decision + at most one send; returns how long to wait before the next step (0 = at once). */
  async step(): Promise<number> {
    const { clock, cfg, sink, store } = this.#d;
    if (this.#done.waiting && !this.#recordAck()) return this.#done.retryDelayMs();
    const force = this.#force;
    const mono = clock.monoMs();
    const now = clock.nowMs();
    const gate = this.#d.gate();
    if (!force && mono < this.#backoffUntil) return this.#backoffUntil - mono;
    if (!force && gate.mode === 'canary' && mono < this.#nextCanary) return this.#nextCanary - mono;
    const batch = this.#nextBatch(force ? 2 : gate.maxPriority, now, force ? Number.POSITIVE_INFINITY : pacedBatchBytes(gate.rateBps));
    if (!batch) {
      this.#force = false;
      return cfg.flush.pollMs;
    }
    if (!force) {
      const waitMs = paceTurn(this.#pace, sink.name, wireBytes(batch.body.byteLength), gate.rateBps, mono);
      if (waitMs > 0) return waitMs;
      if (gate.mode === 'canary') this.#nextCanary = mono + cfg.flush.canaryIntervalMs;
    }
    const out = await this.#d.sender.send(batch, this.#abort.signal);
    if (this.#abort.signal.aborted && out.status === null) return 0;
    const classified = classify(sink.protocol, out.status);
    // A permanent refusal of several records is bisected: only the records the upstream refuses end as dead letters.
    const refused = classified === 'dead' || classified === 'split';
    const verdict: Verdict = refused ? (batch.recordCount > 1 ? 'split' : 'dead') : classified;
    const bytes = batch.body.byteLength;
    this.#d.hooks.onSend(sink.name, out.status, verdict, batch.recordCount, bytes);
    this.#status.lastStatus = out.status;
    if (verdict === 'ok') {
      this.#attempts = 0;
      this.#status.lastSuccessMs = now;
      this.#status.lastError = null;
      this.#status.sentBatches += 1;
      this.#settleLater(batch, false);
      return this.#recordAck() ? 0 : DISK_FULL_RETRY_MS;
    }
    this.#status.lastError = describeOutcome(out.status, out.error);
    if (verdict === 'retry') {
      store.recordAttempt(batch.id);
      const delay = nextDelayMs(
        this.#attempts,
        parseRetryAfterMs(out.retryAfter, now, Math.max(cfg.retry.capMs, RETRY_AFTER_MAX_MS)),
        cfg.retry.baseMs,
        cfg.retry.capMs,
        this.#d.random(),
      );
      this.#attempts += 1;
      this.#force = false;
      this.#backoffUntil = mono + delay;
      this.#d.log.debug({ sink: sink.name, status: out.status, delayMs: delay, attempts: this.#attempts }, 'send failed; backing off');
      return delay;
    }
    this.#attempts = 0;
    if (verdict === 'split') {
      const ids = store.unseal(batch.id);
      this.#sealedIds.delete(batch.id);
      this.#plans.refused(batch.priority, ids);
      // The upstream has a size cap: keep batches at most this big from now on (until restart).
      if (classified === 'split') this.#splitLimit = Math.max(1, Math.ceil(batch.recordCount / 2));
      this.#d.log.debug(
        { sink: sink.name, status: out.status, records: batch.recordCount, pieces: this.#plans.pieces(batch.priority) },
        'upstream refused a batch; bisecting it',
      );
      return 0;
    }
    const reason = refusalReason(sink.protocol, out.status, out.error);
    const fields = { sink: sink.name, status: out.status, batch: batch.id, records: batch.recordCount, reason };
    if (this.#deadLetter(batch, reason, out.status, now)) {
      this.#plans.settled(batch.priority, this.#sealedIds.get(batch.id) ?? []);
      this.#sealedIds.delete(batch.id);
      this.#d.hooks.onDeadLetter(sink.name, batch.recordCount, bytes, true);
      this.#d.log.warn(fields, 'upstream refused a record permanently; moved to dead letters (linkward buffer dead-letters)');
      return 0;
    }
    // Kept sealed, it would be sent and refused again every step (a 3 MiB record was re-sent 13 times in 3 s): it is
    // deleted like an acknowledged batch instead, which costs the metered uplink nothing more.
    this.#d.log.error(
      { ...fields, code: BufferError.DISK_FULL },
      'upstream refused a record permanently and the full disk cannot hold it as a dead letter; dropped (counted as disk_full) instead of re-sending it',
    );
    this.#settleLater(batch, true);
    return this.#recordAck() ? 0 : DISK_FULL_RETRY_MS;
  }
}
