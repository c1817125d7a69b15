/** What a successful reconcile pass sets going: the pause Event, the fleet hold given back, hold renewal, the drain, queued Events. */
import type { Clock } from '../base/clock.ts';
import type { Logger } from '../base/log.ts';
import type { KubernetesConfig } from '../config/k8s.ts';
import type { Connection } from './connection.ts';
import { holdsNeeded } from './desired.ts';
import type { DrainEpisodes } from './drain-episode.ts';
import type { EventOutbox } from './event-outbox.ts';
import type { K8sMetrics } from './metrics.ts';
import { describePause } from './overrides.ts';
import type { ReconcileResult } from './reconciler.ts';

/** What the effects work with (the connection and the metrics come with each pass). */
export interface PassEffectsDeps {
  cfg: KubernetesConfig;
  clock: Clock;
  log: Logger;
  /** Transition Events (the component's outbox, retried across passes). */
  events: EventOutbox;
  drains: DrainEpisodes;
}

/** Keeps what the effects remember between passes: the admin pause last seen and whether a stale hold was looked for. */
export class PassEffects {
  readonly #d: PassEffectsDeps;
  #checkedStaleHold = false;
  /** Whether the admin pause was in force at the last pass (null: not seen yet). */
  #wasPaused: boolean | null = null;

  constructor(deps: PassEffectsDeps) {
    this.#d = deps;
  }

  /**
   * Runs after every successful pass. Throws only when giving the fleet hold back fails (the caller backs off as for
   * any failed pass); sending Events comes last: it never throws, and a failed POST cuts nothing short.
   */
  async apply(r: ReconcileResult, conn: Connection, metrics: K8sMetrics): Promise<void> {
    const { cfg, clock } = this.#d;
    const { api, fleet, renewal } = conn;
    this.#notePause(r);
    // Give the hold back once restrictive decorations are gone; after a restart, also a hold left by the previous run.
    const needsHold = r.desired.hold || holdsNeeded(r.desired) || r.desired.capped.length > 0;
    if (!needsHold) fleet.forgetRefusals();
    if (!cfg.dryRun && !needsHold && (fleet.held() || !this.#checkedStaleHold)) {
      await fleet.release();
      this.#checkedStaleHold = true;
    }
    metrics.leaseHeld.set(fleet.held() ? 1 : 0);
    renewal.schedule();
    this.#d.drains.update(r.desired.drain, api);
    await this.#d.events.flush(api, clock.nowMs());
  }

  /** One Event (and a log line) when the admin pause starts or ends, as seen by this process. */
  #notePause(r: ReconcileResult): void {
    const { cfg, clock, log, events } = this.#d;
    const p = r.desired.paused ?? null;
    const now = p !== null;
    if (now === this.#wasPaused || (this.#wasPaused === null && !now)) {
      this.#wasPaused = now;
      return;
    }
    this.#wasPaused = now;
    const msg = p ? describePause(p) : 'pause annotation linkward.io/paused removed or expired: linkward acts on the link state again';
    log.warn({ paused: now, ...(p ? { until: p.untilMs, value: p.value } : {}) }, msg);
    if (cfg.events && !cfg.dryRun) {
      events.add({
        namespace: cfg.eventNamespace,
        reason: now ? 'LinkwardPaused' : 'LinkwardResumed',
        message: msg,
        type: 'Normal',
        node: { name: r.node.name, ...(r.node.uid ? { uid: r.node.uid } : {}) },
        nowMs: clock.nowMs(),
      });
    }
  }
}
