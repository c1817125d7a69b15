/** The buffer at run time: opens the store through its adapters, group-commits ingests, runs one forwarder per sink and periodic maintenance. */
import type { AgentContext } from '../agent/runtime/component.ts';
import { LwError, messageOf } from '../agent/base/errors.ts';
import type { Logger } from '../agent/base/log.ts';
import type { DropReason, GroupCommitter } from './committer.ts';
import { PRIORITY_RANK, type SinkConfig } from '../agent/config/buffer.ts';
import { ClockRebaser, type ClockStepReport } from './clock-rebase.ts';
import { BufferError } from './errors.ts';
import type { SinkForwarder } from './forwarder.ts';
import { flushGate, type GateDecision } from './gate.ts';
import { ByteBudget } from './inflight.ts';
import { createBufferMetrics, type BufferMetrics } from './metrics.ts';
import { replayBodies } from './resplit.ts';
import type { Recovery } from './recovery.ts';
import { createCommitter, createForwarders } from './service-parts.ts';
import type { AppendOptions, BufferDeps, OpenedStore } from './service-ports.ts';
import { wholeBody, type NewRecord, type ReplayResult, type Store } from './types.ts';

/** The ports live in service-ports.ts; re-exported for the adapters and tests that import them from here. */
export type { AppendOptions, BufferDeps, OpenedStore, StoreEnv } from './service-ports.ts';

/** TTL expiry, incremental vacuum and WAL truncation run this often: cheap, and keeps the file near its content. */
export const MAINTENANCE_INTERVAL_MS = 30_000;
/** TTL expiry deletes at most this many records per slice (~20 ms here), then lets the event loop run. */
export const EXPIRE_SLICE_RECORDS = 1_000;
/** Pause between expiry slices. */
const EXPIRE_SLICE_PAUSE_MS = 10;

export class BufferService {
  readonly sinks: ReadonlyMap<string, SinkConfig>;
  readonly metrics: BufferMetrics;
  readonly forwarders = new Map<string, SinkForwarder>();
  /** Ingest bodies held in memory across HTTP and the unix socket (buffer.maxInflightBytes). */
  readonly inflight: ByteBudget;
  store: Store | null = null;
  committer: GroupCommitter | null = null;
  /** Why the buffer cannot work (null: fine). */
  unavailable: string | null = null;
  movedAside: string | null = null;
  /** Ledger audit at open, salvage, and what they found (for status). */
  recovery: Recovery | null = null;
  /** Path of the live buffer.db (null with an injected store). */
  livePath: string | null = null;
  readonly #ctx: AgentContext;
  readonly #log: Logger;
  readonly #deps: BufferDeps;
  readonly #metered: ReadonlySet<string>;
  #cancelMaintenance: (() => void) | null = null;
  #stopped = false;
  #opened: OpenedStore | null = null;
  /** Keeps stored times in the wall clock's frame (null until the store is open). */
  #rebaser: ClockRebaser | null = null;

  constructor(ctx: AgentContext, deps: BufferDeps) {
    this.#ctx = ctx;
    this.#deps = deps;
    this.#log = ctx.log.child({ component: 'buffer' });
    this.sinks = new Map(ctx.config.sinks.map((s) => [s.name, s]));
    this.#metered = new Set(ctx.config.uplinks.filter((u) => u.metered).map((u) => u.name));
    this.inflight = new ByteBudget(ctx.config.buffer.maxInflightBytes);
    this.metrics = createBufferMetrics(
      ctx.metrics,
      () => this.store?.depth() ?? [],
      () => ctx.clock.nowMs(),
      () => this.store?.deadLetterCount() ?? 0,
      () => this.inflight,
    );
  }

  /** Opens the store and builds the forwarders; never throws (a failure is kept in `unavailable`). */
  open(): void {
    const cfg = this.#ctx.config.buffer;
    try {
      const opened = this.#deps.openStore({
        metrics: this.metrics,
        log: this.#log,
        nowMs: () => this.#ctx.clock.nowMs(),
        wake: () => {
          for (const f of this.forwarders.values()) f.wake();
        },
      });
      this.#opened = opened;
      this.store = opened.store;
      this.livePath = opened.livePath;
      this.movedAside = opened.movedAside;
      this.recovery = opened.recovery;
    } catch (e) {
      this.unavailable = messageOf(e);
      this.#log.error({ code: BufferError.UNAVAILABLE, err: this.unavailable }, 'telemetry buffer unavailable; ingest answers 503');
      return;
    }
    const store = this.store;
    this.#rebaser = new ClockRebaser({
      store,
      clock: this.#ctx.clock,
      sinks: [...this.sinks.values()],
      log: this.#log,
      metrics: this.metrics,
      drain: () => this.committer?.drain() ?? Promise.resolve(),
      active: () => !this.#stopped,
      settled: () => this.maintain(),
    });
    this.#rebaser.open();
    const parts = { store, cfg, clock: this.#ctx.clock, log: this.#log, deps: this.#deps };
    this.committer = createCommitter(this, parts);
    createForwarders(this, parts, this.sinks.values());
  }

  countDrop(sink: string, reason: DropReason, records: number, bytes: number): void {
    this.metrics.dropped.inc({ sink, reason }, records);
    this.metrics.droppedBytes.inc({ sink, reason }, bytes);
  }

  gate(): GateDecision {
    const f = this.#ctx.config.buffer.flush;
    return flushGate({ link: this.#ctx.bus.latestLink(), metered: this.#metered, meteredHighOnly: f.meteredHighOnly, paceFraction: f.paceFraction });
  }

  start(): void {
    for (const f of this.forwarders.values()) f.start();
    const tick = (): void => {
      this.maintain();
      this.#cancelMaintenance = this.#ctx.clock.setTimer(MAINTENANCE_INTERVAL_MS, tick);
    };
    this.#cancelMaintenance = this.#ctx.clock.setTimer(MAINTENANCE_INTERVAL_MS, tick);
  }

  /** The last wall-clock step seen while running, and what it did to the store (null: none). */
  get lastClockStep(): ClockStepReport | null {
    return this.#rebaser?.lastStep ?? null;
  }

  /** Resolves once no clock rebase is running (tests). */
  async clockSettled(): Promise<void> {
    await this.#rebaser?.idle();
  }

  /**
   * Expires TTL'd records (in slices, so the loop is never blocked for long) and gives free pages back to the file
   * system. A wall-clock step not yet applied to the stored rows (its rebase pending or failing) holds the expiry time
   * back by the step, so no row is swept on an old-frame time (ClockRebaser.expiryCutoffMs); the rebase calls back.
   */
  maintain(): void {
    if (!this.store || this.#stopped) return;
    const cutoffMs = this.#rebaser?.expiryCutoffMs() ?? this.#ctx.clock.nowMs();
    try {
      let expired = 0;
      for (const d of this.store.expire(cutoffMs, EXPIRE_SLICE_RECORDS)) {
        this.countDrop(d.sink, 'ttl', d.records, d.bytes);
        expired += d.records;
      }
      if (expired >= EXPIRE_SLICE_RECORDS) {
        this.#ctx.clock.setTimer(EXPIRE_SLICE_PAUSE_MS, () => this.maintain());
        return;
      }
      this.store.maintenance();
    } catch (e) {
      this.#log.warn({ err: messageOf(e) }, 'buffer maintenance failed; will retry');
    }
  }

  /** Durable append through group commit (HTTP ingest and the in-process API). */
  append(rec: NewRecord): Promise<number> {
    if (!this.committer) return Promise.reject(new LwError(BufferError.UNAVAILABLE, this.unavailable ?? 'telemetry buffer is not open'));
    return this.committer.append(rec);
  }

  /** The in-process API for the agent's own records: resolves once durable. */
  appendBody(sinkName: string, body: Uint8Array, o: AppendOptions = {}): Promise<number> {
    const sink = this.sinks.get(sinkName);
    if (!sink) return Promise.reject(new LwError(BufferError.UNKNOWN_SINK, `no sink named "${sinkName}" in the sinks config`));
    const now = this.#ctx.clock.nowMs();
    // A measurement time after now is not one (and a rebase after a clock step keys on created times): now at most.
    const created = Math.min(o.createdMs ?? now, now);
    return this.append({
      sink: sinkName,
      priority: PRIORITY_RANK[o.priority ?? sink.priority],
      createdMs: created,
      expiresMs: sink.ttlSeconds > 0 ? now + sink.ttlSeconds * 1000 : null,
      contentType: o.contentType ?? null,
      contentEncoding: o.contentEncoding ?? null,
      body,
    });
  }

  /** Puts dead letters back in the queue, each cut into the records it held (so the forwarder bisects them again). */
  replay(ids: readonly string[] | null, nowMs: number): ReplayResult {
    const store = this.store;
    if (!store) throw new LwError(BufferError.UNAVAILABLE, this.unavailable ?? 'telemetry buffer is not open');
    const r = store.replayDeadLetters(ids, nowMs, (d) => {
      const sink = this.sinks.get(d.sink);
      return sink ? replayBodies(sink.protocol, d) : wholeBody(d);
    });
    this.flush(null, false);
    return r;
  }

  /** Clears backoff (and with force, ignores the gate) for one sink or all; returns the sinks woken. */
  flush(sink: string | null, force: boolean): string[] {
    const woken: string[] = [];
    for (const f of this.forwarders.values())
      if (sink === null || f.sink === sink) {
        f.flushNow(force);
        woken.push(f.sink);
      }
    return woken;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancelMaintenance?.();
    await this.#rebaser?.idle(); // between slices: it sees the stop; a stored plan resumes at the next open
    this.#rebaser?.storeBeforeStop();
    await this.committer?.drain();
    await Promise.all([...this.forwarders.values()].map((f) => f.stop()));
    await this.#opened?.close();
  }
}
