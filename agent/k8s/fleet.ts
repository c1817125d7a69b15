/** Fleet semaphore on a coordination.k8s.io Lease: acquire/renew/release a hold with optimistic concurrency (409 → retry). */
import { LwError, isLwError } from '../base/errors.ts';
import type { KubernetesConfig } from '../config/k8s.ts';
import type { LeaseView, NodeApi } from './api.ts';
import { backoffDelayMs } from './backoff.ts';
import { K8sErrorCode } from './errors.ts';
import { ANNOTATION_HOLDERS, decideAcquire, decideRelease, fleetCap, liveHolds, parseHolds, unavailableNodes, type Hold } from './fleet-decide.ts';

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

/** One agent's view of the fleet Lease. Keeps the last grant so an unchanged hold costs no API call until renewal is due. */
export class FleetSemaphore {
  readonly #api: NodeApi;
  readonly #cfg: KubernetesConfig['fleet'];
  readonly #me: string;
  #heldSinceRenewMs: number | null = null;
  #queue: Promise<void> = Promise.resolve();
  readonly #random: () => number;
  #refusals = 0;
  #askAgainAtMs = 0;
  #lastRefusal: FleetResult | null = null;
  /** Fleet lists made (the expensive request; tests and benches count it). */
  lists = 0;
  /** API writes made (metrics/tests). */
  writes = 0;

  constructor(api: NodeApi, cfg: KubernetesConfig['fleet'], me: string, random: () => number = Math.random) {
    this.#random = random;
    this.#api = api;
    this.#cfg = cfg;
    this.#me = me;
  }

  /** True while this agent believes it holds a live hold. */
  held(nowMs: number): boolean {
    return this.#heldSinceRenewMs !== null && nowMs - this.#heldSinceRenewMs < this.#cfg.leaseTtlSeconds * 1000;
  }

  /** Milliseconds until the hold is due for renewal (a third of the TTL after the last one), or null when none is held. */
  renewDueInMs(nowMs: number): number | null {
    if (!this.held(nowMs) || this.#heldSinceRenewMs === null) return null;
    return Math.max(0, this.#heldSinceRenewMs + (this.#cfg.leaseTtlSeconds * 1000) / 3 - nowMs);
  }

  /**
   * Acquires or renews (dry run: reads and decides, writes nothing). Throws LwError on API failure. Calls are
   * serialised: the renewal timer and a reconcile pass that meet do one renewal, not two racing writes (409).
   */
  acquire(nowMs: number, dryRun = false): Promise<FleetResult> {
    const run = this.#queue.then(() => this.#acquire(nowMs, dryRun));
    this.#queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  async #acquire(nowMs: number, dryRun: boolean): Promise<FleetResult> {
    if (!this.#cfg.enabled) return { granted: true };
    if (dryRun) return this.#peek(nowMs);
    const ttlMs = this.#cfg.leaseTtlSeconds * 1000;
    if (this.#heldSinceRenewMs !== null && nowMs - this.#heldSinceRenewMs < ttlMs / 3) return { granted: true };
    if (this.held(nowMs)) {
      // Renewal of a live hold: only the Lease is needed (2 requests); the fleet is counted when a hold is taken.
      const renewed = await this.#renew(nowMs);
      if (renewed) return renewed;
    }
    if (this.#lastRefusal && nowMs < this.#askAgainAtMs) return this.#lastRefusal;
    const nodes = await this.#api.listNodes(this.#cfg.nodeSelector);
    this.lists++;
    const fleet = new Set(nodes.map((n) => n.name));
    const unavailable = unavailableNodes(nodes);
    const cap = fleetCap(this.#cfg.maxUnavailable, fleet.size);
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
      const lease = await this.#getOrCreate();
      const d = decideAcquire(parseHolds(lease.annotations[ANNOTATION_HOLDERS]), this.#me, nowMs, this.#cfg.leaseTtlSeconds, cap, fleet, unavailable);
      if (!d.granted) {
        this.#heldSinceRenewMs = null;
        this.#refusals++;
        const wait = backoffDelayMs(this.#refusals, CAPPED_RETRY_MAX_MS, this.#random(), CAPPED_RETRY_INITIAL_MS);
        this.#askAgainAtMs = nowMs + wait;
        this.#lastRefusal = { granted: false, reason: `${refusal(d.live, d.cap, d.counted)}; asking again in ≥ ${Math.round(wait / 1000)} s` };
        return this.#lastRefusal;
      }
      this.forgetRefusals();
      if (d.write === null) {
        this.#heldSinceRenewMs = nowMs;
        return { granted: true };
      }
      if (await this.#write(lease, d.write)) {
        this.#heldSinceRenewMs = nowMs;
        return { granted: true };
      }
    }
    throw new LwError(K8sErrorCode.CONFLICT, `fleet Lease ${this.#cfg.leaseNamespace}/${this.#cfg.leaseName} kept changing; will retry`);
  }

  /** Renews this agent's live hold; null when the Lease no longer lists it live (then it must be acquired anew). */
  async #renew(nowMs: number): Promise<FleetResult | null> {
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
      const lease = await this.#api.getLease(this.#cfg.leaseNamespace, this.#cfg.leaseName);
      if (!lease) return null;
      const holds = parseHolds(lease.annotations[ANNOTATION_HOLDERS]);
      if (!liveHolds(holds, nowMs, null).some((h) => h.holder === this.#me)) return null;
      const renewed: Hold = { holder: this.#me, renewTime: new Date(nowMs).toISOString(), ttlSeconds: this.#cfg.leaseTtlSeconds };
      if (await this.#write(lease, [...holds.filter((h) => h.holder !== this.#me), renewed])) {
        this.#heldSinceRenewMs = nowMs;
        return { granted: true };
      }
    }
    throw new LwError(K8sErrorCode.CONFLICT, `fleet Lease ${this.#cfg.leaseNamespace}/${this.#cfg.leaseName} kept changing; will retry`);
  }

  async #peek(nowMs: number): Promise<FleetResult> {
    const nodes = await this.#api.listNodes(this.#cfg.nodeSelector);
    const fleet = new Set(nodes.map((n) => n.name));
    const lease = await this.#api.getLease(this.#cfg.leaseNamespace, this.#cfg.leaseName);
    const d = decideAcquire(
      parseHolds(lease?.annotations[ANNOTATION_HOLDERS]),
      this.#me,
      nowMs,
      this.#cfg.leaseTtlSeconds,
      fleetCap(this.#cfg.maxUnavailable, fleet.size),
      fleet,
      unavailableNodes(nodes),
    );
    return d.granted ? { granted: true } : { granted: false, reason: refusal(d.live, d.cap, d.counted) };
  }

  /** A new episode (nothing restrictive wanted any more): the next ask is not delayed by earlier refusals. */
  forgetRefusals(): void {
    this.#refusals = 0;
    this.#askAgainAtMs = 0;
    this.#lastRefusal = null;
  }

  /** Gives the hold back (no write when this agent holds nothing). */
  async release(): Promise<void> {
    if (!this.#cfg.enabled) return;
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
      const lease = await this.#api.getLease(this.#cfg.leaseNamespace, this.#cfg.leaseName);
      const next = lease ? decideRelease(parseHolds(lease.annotations[ANNOTATION_HOLDERS]), this.#me) : null;
      if (!lease || next === null || (await this.#write(lease, next))) {
        this.#heldSinceRenewMs = null;
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

  /** Replace with the new hold list; false on 409 (caller re-reads). */
  async #write(lease: LeaseView, holds: Hold[]): Promise<boolean> {
    try {
      this.writes++;
      await this.#api.replaceLease({ ...lease, annotations: { ...lease.annotations, [ANNOTATION_HOLDERS]: JSON.stringify(holds) } });
      return true;
    } catch (e) {
      if (isLwError(e, K8sErrorCode.CONFLICT)) return false;
      throw e;
    }
  }
}
