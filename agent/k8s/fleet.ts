/** Fleet semaphore on a coordination.k8s.io Lease: acquire/renew/release a hold with optimistic concurrency (409 → retry). */
import { type Clock, systemClock } from '../base/clock.ts';
import { LwError, isLwError } from '../base/errors.ts';
import type { KubernetesConfig } from '../config/k8s.ts';
import type { LeaseView, NodeApi } from './api.ts';
import { backoffDelayMs } from './backoff.ts';
import { K8sErrorCode } from './errors.ts';
import {
  ANNOTATION_HOLDERS,
  decideAcquire,
  decideRelease,
  type FleetDecision,
  fleetCap,
  type Hold,
  type HoldSightings,
  nextRenewTime,
  observeHolds,
  parseHolds,
  unavailableNodes,
} from './fleet-decide.ts';
import { OwnHold } from './own-hold.ts';

/**
 * A refused node asks again no sooner than a full-jitter wait under 60 s · 2^(refusals-1), capped at 10 min (and in
 * practice at the next resync after it). Each ask lists every Node of the selector: in a fleet-wide outage with a 10 %
 * cap, thousands of refused agents asking every minute would each pull the whole Node list. 10 min bounds how long a
 * freed slot can stay unused.
 */
export const CAPPED_RETRY_INITIAL_MS = 60_000;
export const CAPPED_RETRY_MAX_MS = 600_000;

/** Conflicts are expected when many agents race; a few re-reads settle them. */
const MAX_CONFLICT_RETRIES = 8;

export interface FleetResult {
  granted: boolean;
  /** Why not granted (for status): e.g. "fleet cap 1/1 reached". */
  reason?: string;
}

/** Status text of a refused hold: how many are unavailable, the cap, and who (at most 5 named). */
function refusal(live: number, cap: number, counted: string[]): string {
  const named = counted.slice(0, 5).join(', ') + (counted.length > 5 ? `, +${counted.length - 5} more` : '');
  return `fleet cap reached: ${live}/${cap} nodes unavailable (${named})`;
}

/**
 * One agent's view of the fleet Lease. Keeps the last grant so an unchanged hold costs no API call until renewal is
 * due, and when it first saw each hold record (HoldSightings): others' holds expire by this agent's monotonic clock.
 */
export class FleetSemaphore {
  readonly #api: NodeApi;
  readonly #cfg: KubernetesConfig['fleet'];
  readonly #me: string;
  readonly #clock: Pick<Clock, 'nowMs' | 'monoMs'>;
  readonly #own: OwnHold;
  /** Hold records as last read, with when first seen; empty after a restart, so every hold found counts as fresh. */
  #seen: HoldSightings = new Map();
  #queue: Promise<void> = Promise.resolve();
  readonly #random: () => number;
  #refusals = 0;
  #askAgainAtMonoMs = 0;
  #lastRefusal: FleetResult | null = null;
  /** Fleet lists made (the expensive request; tests and benches count it). */
  lists = 0;
  /** API writes made (metrics/tests). */
  writes = 0;

  constructor(
    api: NodeApi,
    cfg: KubernetesConfig['fleet'],
    me: string,
    random: () => number = Math.random,
    clock: Pick<Clock, 'nowMs' | 'monoMs'> = systemClock,
  ) {
    this.#random = random;
    this.#api = api;
    this.#cfg = cfg;
    this.#me = me;
    this.#clock = clock;
    this.#own = new OwnHold(clock, cfg.leaseTtlSeconds);
  }

  /** True while this agent believes it holds a live hold (see OwnHold). */
  held(): boolean {
    return this.#own.held();
  }

  /** Milliseconds until the hold is due for renewal (a third of the TTL after the last one), or null when none is held. */
  renewDueInMs(): number | null {
    return this.#own.renewDueInMs();
  }

  /**
   * Acquires or renews (dry run: reads and decides, writes nothing). Throws LwError on API failure. Calls are
   * serialised: the renewal timer and a reconcile pass that meet do one renewal, not two racing writes (409).
   */
  acquire(dryRun = false): Promise<FleetResult> {
    return this.#serial(() => this.#acquire(dryRun));
  }

  /**
   * Runs `fn` after every call before it has ended. Acquire, renew and release all write the Lease and this agent's
   * belief in its hold: a release overlapping a renewal whose response came late would clear the belief and then see
   * the renewal set it again, with the record already gone from the Lease (an agent holding what nobody counts).
   */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn);
    this.#queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  async #acquire(dryRun: boolean): Promise<FleetResult> {
    if (!this.#cfg.enabled) return { granted: true };
    if (dryRun) return this.#peek();
    const dueInMs = this.#own.renewDueInMs();
    if (dueInMs !== null && dueInMs > 0) return { granted: true }; // held, renewal not yet due
    if (this.held()) {
      // Renewal of a live hold: only the Lease is needed (2 requests); the fleet is counted when a hold is taken.
      const renewed = await this.#renew();
      if (renewed) return renewed;
      // The record is gone (or the Lease): no hold any more, whatever the rest of this call meets (a failed list).
      this.#own.clear();
    }
    if (this.#lastRefusal && this.#clock.monoMs() < this.#askAgainAtMonoMs) return this.#lastRefusal;
    const nodes = await this.#api.listNodes(this.#cfg.nodeSelector);
    this.lists++;
    const fleet = new Set(nodes.map((n) => n.name));
    const unavailable = unavailableNodes(nodes);
    const cap = fleetCap(this.#cfg.maxUnavailable, fleet.size);
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
      const lease = await this.#getOrCreate();
      const d = this.#decide(lease, cap, fleet, unavailable);
      if (!d.granted) {
        this.#own.clear();
        this.#refusals++;
        const wait = backoffDelayMs(this.#refusals, CAPPED_RETRY_MAX_MS, this.#random(), CAPPED_RETRY_INITIAL_MS);
        this.#askAgainAtMonoMs = this.#clock.monoMs() + wait;
        this.#lastRefusal = { granted: false, reason: `${refusal(d.live, d.cap, d.counted)}; asking again in ≥ ${Math.round(wait / 1000)} s` };
        return this.#lastRefusal;
      }
      this.forgetRefusals();
      if (await this.#write(lease, d.write, true)) return { granted: true };
    }
    throw new LwError(K8sErrorCode.CONFLICT, `fleet Lease ${this.#cfg.leaseNamespace}/${this.#cfg.leaseName} kept changing; will retry`);
  }

  /** Notes the holds of a Lease just read (its response is in: nothing it shows was written after this instant). */
  #observe(lease: LeaseView | null): { holds: Hold[]; monoMs: number } {
    const holds = parseHolds(lease?.annotations[ANNOTATION_HOLDERS]);
    const monoMs = this.#clock.monoMs();
    this.#seen = observeHolds(this.#seen, holds, monoMs);
    return { holds, monoMs };
  }

  #decide(lease: LeaseView | null, cap: number, fleet: ReadonlySet<string>, unavailable: ReadonlyMap<string, string>): FleetDecision {
    const { holds, monoMs } = this.#observe(lease);
    const ttlSeconds = this.#cfg.leaseTtlSeconds;
    return decideAcquire({ holds, seen: this.#seen, me: this.#me, nowMs: this.#clock.nowMs(), monoMs, ttlSeconds, cap, fleet, unavailable });
  }

  /**
   * Renews this agent's hold; null when the Lease no longer lists it (then it must be acquired anew). Its record still
   * there means no one took a slot by judging it expired: a grant writes the list without the expired holds.
   */
  async #renew(): Promise<FleetResult | null> {
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
      const lease = await this.#api.getLease(this.#cfg.leaseNamespace, this.#cfg.leaseName);
      if (!lease) return null;
      const { holds } = this.#observe(lease);
      const mine = holds.find((h) => h.holder === this.#me);
      if (!mine) return null;
      const renewed: Hold = { holder: this.#me, renewTime: nextRenewTime(this.#clock.nowMs(), mine.renewTime), ttlSeconds: this.#cfg.leaseTtlSeconds };
      if (await this.#write(lease, [...holds.filter((h) => h.holder !== this.#me), renewed], true)) return { granted: true };
    }
    throw new LwError(K8sErrorCode.CONFLICT, `fleet Lease ${this.#cfg.leaseNamespace}/${this.#cfg.leaseName} kept changing; will retry`);
  }

  async #peek(): Promise<FleetResult> {
    const nodes = await this.#api.listNodes(this.#cfg.nodeSelector);
    const fleet = new Set(nodes.map((n) => n.name));
    const lease = await this.#api.getLease(this.#cfg.leaseNamespace, this.#cfg.leaseName);
    const d = this.#decide(lease, fleetCap(this.#cfg.maxUnavailable, fleet.size), fleet, unavailableNodes(nodes));
    return d.granted ? { granted: true } : { granted: false, reason: refusal(d.live, d.cap, d.counted) };
  }

  /** A new episode (nothing restrictive wanted any more): the next ask is not delayed by earlier refusals. */
  forgetRefusals(): void {
    this.#refusals = 0;
    this.#askAgainAtMonoMs = 0;
    this.#lastRefusal = null;
  }

  /** Gives the hold back (no write when this agent holds nothing); after any acquire or renewal in progress. */
  release(): Promise<void> {
    return this.#serial(() => this.#release());
  }

  async #release(): Promise<void> {
    if (!this.#cfg.enabled) return;
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
      const lease = await this.#api.getLease(this.#cfg.leaseNamespace, this.#cfg.leaseName);
      const next = lease ? decideRelease(parseHolds(lease.annotations[ANNOTATION_HOLDERS]), this.#me) : null;
      if (!lease || next === null || (await this.#write(lease, next, false))) {
        this.#own.clear();
        return;
      }
    }
    throw new LwError(K8sErrorCode.CONFLICT, `fleet Lease ${this.#cfg.leaseNamespace}/${this.#cfg.leaseName} kept changing; will retry`);
  }

  async #getOrCreate(): Promise<LeaseView> {
    const ns = this.#cfg.leaseNamespace;
    const name = this.#cfg.leaseName;
    const got = await this.#api.getLease(ns, name);
    if (got) return got;
    try {
      this.writes++;
      return await this.#api.createLease({
        namespace: ns,
        name,
        annotations: { [ANNOTATION_HOLDERS]: '[]' },
        holderIdentity: 'linkward-fleet',
        leaseDurationSeconds: this.#cfg.leaseTtlSeconds,
      });
    } catch (e) {
      // Another agent created it first (409 AlreadyExists): read theirs.
      if (isLwError(e, K8sErrorCode.CONFLICT)) {
        const again = await this.#api.getLease(ns, name);
        if (again) return again;
      }
      throw e;
    }
  }

  /** Replace with the new hold list (`mine`: it holds this agent's renewed hold); false on 409 (caller re-reads). */
  async #write(lease: LeaseView, holds: Hold[], mine: boolean): Promise<boolean> {
    const at = this.#own.now();
    try {
      this.writes++;
      await this.#api.replaceLease({ ...lease, annotations: { ...lease.annotations, [ANNOTATION_HOLDERS]: JSON.stringify(holds) } });
    } catch (e) {
      if (isLwError(e, K8sErrorCode.CONFLICT)) return false;
      throw e;
    }
    this.#seen = observeHolds(this.#seen, holds, at.monoMs);
    if (mine) this.#own.written(at);
    return true;
  }
}
