/** The node component's pass loop: when a reconcile pass runs (link, Node, resync, new path), its backoff, and its last result. */
import type { Clock } from '../base/clock.ts';
import { type Coalescer, createCoalescer } from '../base/coalesce.ts';
import { codeOf, messageOf } from '../base/errors.ts';
import type { Logger } from '../base/log.ts';
import type { KubernetesConfig } from '../config/k8s.ts';
import type { LinkSnapshot } from '../core/types.ts';
import { backoffDelayMs } from './backoff.ts';
import type { Connection } from './connection.ts';
import { desiredDecorations, wantsRestrictive } from './desired.ts';
import type { DrainEpisodes } from './drain-episode.ts';
import type { EventOutbox } from './event-outbox.ts';
import type { K8sMetrics } from './metrics.ts';
import { failedMessage, type NodeStatus, passedMessage } from './node-status.ts';
import { PassEffects } from './pass-effects.ts';
import { planNode } from './plan.ts';
import { reconcileOnce, type ReconcileResult } from './reconciler.ts';
import type { Desired, NodeView } from './types.ts';

/** What the pass loop works with; the connection comes later, with start(). */
export interface PassLoopDeps {
  cfg: KubernetesConfig;
  nodeName: string;
  clock: Clock;
  log: Logger;
  /** Jitter source in [0,1) (tests pin it). */
  random: () => number;
  /** The latest link snapshot. */
  snapshot: () => LinkSnapshot | null;
  /** Where a pass's outcome is shown (the component's status cell). */
  status: NodeStatus;
  /** Transition Events: passes queue them, and send them once the rest of the pass is done. */
  events: EventOutbox;
  /** Drain episodes, updated after every successful pass. */
  drains: DrainEpisodes;
}

/**
 * Passes never overlap; triggers during a pass collapse into one follow-up pass, which reads the latest snapshot.
 * While a failed pass backs off, triggers only mark the work; the retry timer runs it. Nothing runs before start().
 */
export class PassLoop {
  readonly #d: PassLoopDeps;
  readonly #effects: PassEffects;
  readonly #passes: Coalescer;
  /** The connection and the metrics, set in one step by start(): a pass needs both. */
  #link: { conn: Connection; metrics: K8sMetrics } | null = null;
  #stopped = false;
  #paused = false;
  #failures = 0;
  /** Active-uplink changes seen: a pass that fails after one started on the old path and is not counted as a failure. */
  #pathChanges = 0;
  #cancelRetry: (() => void) | null = null;
  #cancelResync: (() => void) | null = null;
  #last: ReconcileResult | null = null;
  /** Monotonic time since which the link state has been unknown (null: it is known); see #unknownSinceMs. */
  #unknownSinceMono: number | null = null;

  constructor(deps: PassLoopDeps) {
    this.#d = deps;
    this.#effects = new PassEffects(deps);
    this.#passes = createCoalescer(
      () => this.#pass(),
      (e) => deps.log.error({ err: e }, 'node reconcile pass threw'),
      () => this.#stopped || this.#cancelRetry !== null,
    );
  }

  /** The last successful pass, its Node kept current by the watch; null before the first and after a release. */
  get last(): ReconcileResult | null {
    return this.#last;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Paused by `linkward node release`, until resume(). */
  get paused(): boolean {
    return this.#paused;
  }

  /** Takes the connection and its metrics and starts the resync timer; triggers run passes from now on. */
  start(conn: Connection, metrics: K8sMetrics): void {
    this.#link = { conn, metrics };
    this.#scheduleResync();
  }

  /** Runs a pass now, or marks one due (a pass in flight, a backoff); nothing when stopped, paused or not started. */
  trigger(): void {
    if (this.#stopped || this.#paused || !this.#link) return;
    void this.#passes.run();
  }

  /** A new link snapshot: a pass only when the fleet hold must be asked for or given back, or the plan has writes. */
  onLink(s: LinkSnapshot): void {
    this.#trackUnknown(s);
    if (this.#cancelRetry) return; // backing off: the retry picks up this snapshot; no request before it
    const last = this.#last;
    if (!last) return this.trigger(); // no cached node yet: read it
    const nowMs = this.#d.clock.nowMs();
    const conn = this.#link?.conn;
    const held = conn?.fleet.held() ?? false;
    const restrictive = wantsRestrictive(s.node, this.#d.cfg);
    // Fleet: ask on a state change (a refused hold is retried by the resync, not by every snapshot); release when done.
    const needFleet = (restrictive && !held && last.desired.state !== s.node) || (!restrictive && held);
    if (needFleet || this.#worthAPass(s, conn?.watcher.node ?? last.node, nowMs)) this.trigger();
  }

  /** The watch saw the Node change (an admin's edit, the pause annotation, our own write): re-plan; a pass only if needed. */
  onNodeChanged(node: NodeView | null): void {
    if (!node || !this.#last) return this.trigger();
    this.#last = { ...this.#last, node };
    if (this.#worthAPass(this.#d.snapshot(), node, this.#d.clock.nowMs())) this.trigger();
  }

  /**
   * The path to the API server changed: the backoff built up on the old path starts over; a pass backing off, or one
   * in flight on the old path (it reruns after it), runs now over the new one.
   */
  pathChanged(): void {
    this.#failures = 0;
    this.#pathChanges++;
    this.#cancelRetry?.();
    this.#cancelRetry = null;
    this.trigger();
  }

  /** Desired decorations from the latest snapshot and the last Node read (pure; no API call). */
  desiredNow(s: LinkSnapshot | null, node: NodeView, nowMs: number): Desired {
    const held = this.#link?.conn.fleet.held() ?? false;
    const restrictive = s !== null && wantsRestrictive(s.node, this.#d.cfg);
    return desiredDecorations({
      snapshot: s,
      cfg: this.#d.cfg,
      node,
      nowMs,
      fleetGranted: held || (restrictive && (this.#last?.desired.capped.length ?? 0) === 0),
      unknownSinceMs: this.#unknownSinceMs,
    });
  }

  /** `linkward node release`: no pass starts until resume() (one in flight runs on: see idle()). */
  pause(): void {
    this.#paused = true;
  }

  /** Ends a pause (`POST /v1/node/resume`): a pass runs now. */
  resume(): void {
    this.#paused = false;
    this.trigger();
  }

  /** Drops the last result (the decorations were taken off): the next trigger reads the Node. */
  forget(): void {
    this.#last = null;
  }

  /** For good: no pass starts and the retry and resync timers are cancelled (one in flight runs on: see idle()). */
  stop(): void {
    this.#stopped = true;
    this.#cancelRetry?.();
    this.#cancelResync?.();
  }

  /** Whether a pass (or its follow-up) is in flight. */
  busy(): boolean {
    return this.#passes.busy();
  }

  /** Resolves when no pass is in flight. */
  idle(): Promise<void> {
    return this.#passes.idle();
  }

  #trackUnknown(s: LinkSnapshot | null): void {
    if (s !== null && s.node !== 'unknown') this.#unknownSinceMono = null;
    else this.#unknownSinceMono ??= this.#d.clock.monoMs();
  }

  /**
   * Since when (wall time) the link state has been unknown, measured on the monotonic clock: a wall clock stepped back
   * by a day while it is unknown must not keep linkward's decorations on for a day past `unknownHoldSeconds`, nor one
   * stepped forward take them off at once.
   */
  get #unknownSinceMs(): number | null {
    if (this.#unknownSinceMono === null) return null;
    return this.#d.clock.nowMs() - (this.#d.clock.monoMs() - this.#unknownSinceMono);
  }

  #scheduleResync(): void {
    this.#cancelResync?.();
    this.#cancelResync = this.#d.clock.setTimer(this.#d.cfg.resyncSeconds * 1000, () => {
      if (!this.#stopped) {
        if (!this.#cancelRetry) this.trigger();
        this.#scheduleResync();
      }
    });
  }

  /** Whether planning `s` against `node` gives writes worth a pass (dry run: a different plan than last time). */
  #worthAPass(s: LinkSnapshot | null, node: NodeView, nowMs: number): boolean {
    const { cfg } = this.#d;
    if (!this.#last) return true;
    const p = planNode(node, this.desiredNow(s, node, nowMs), cfg, nowMs);
    const changed = p.nodePatch !== null || p.statusPatch !== null;
    return cfg.dryRun ? changed && JSON.stringify(p.changes) !== JSON.stringify(this.#last.plan.changes) : changed;
  }

  async #pass(): Promise<void> {
    if (!this.#link) return;
    const { conn, metrics } = this.#link;
    const { api, fleet, watcher, gate } = conn;
    const { cfg, clock, log, status, nodeName } = this.#d;
    const s = this.#d.snapshot();
    const path = this.#pathChanges;
    this.#trackUnknown(s);
    try {
      const r = await reconcileOnce(
        {
          api,
          cfg,
          nodeName,
          log,
          fleet,
          events: this.#d.events,
          onApplied: (kind) => metrics.decorations.inc({ kind }),
          // The watch keeps the Node current: plan from it; GET only when there is none yet or after a 409.
          readNode: async (fresh) => (!fresh && watcher.node ? watcher.node : watcher.read()),
          onWritten: (n) => watcher.noteWritten(n),
        },
        { snapshot: s, unknownSinceMs: this.#unknownSinceMs, nowMs: clock.nowMs() },
      );
      this.#last = r;
      this.#failures = 0;
      status.succeeded(clock.nowMs());
      status.show('ok', passedMessage(r, cfg.dryRun));
      await this.#effects.apply(r, conn, metrics);
    } catch (e) {
      if (path !== this.#pathChanges) {
        // Failed on the path it started on, which the failover has left: pathChanged() asked for a rerun on the new one.
        log.info({ code: codeOf(e), err: messageOf(e) }, 'node reconcile failed on the previous uplink; running it again on the new one');
        return;
      }
      const failures = ++this.#failures;
      const code = codeOf(e);
      status.failed(e, clock.nowMs());
      metrics.reconcileErrors.inc({ code });
      // The gate opened a backoff window when the API did not answer; other failures (403, 404, ...) back off here.
      const delay = Math.max(gate.waitMs(), backoffDelayMs(failures, cfg.maxBackoffMs, this.#d.random()));
      status.show('degraded', failedMessage(e, nodeName, failures, delay));
      log.warn({ code, err: messageOf(e), failures, retryInMs: delay }, 'node reconcile failed; will retry');
      this.#cancelRetry?.();
      this.#cancelRetry = clock.setTimer(delay, () => {
        this.#cancelRetry = null;
        this.trigger();
      });
    }
  }
}
