/** Pure: the fleet semaphore's decisions (cap from count or percentage, who is unavailable, grant or refuse). */
import type { NodeView } from './types.ts';

/** One hold recorded in the fleet Lease's annotation. */
export interface Hold {
  holder: string;
  /**
   * RFC 3339 time of the holder's last renewal, by the holder's own clock. Only a change token (a renewal changes it)
   * and a hint for humans: never compared with another node's clock, which may be hours off (see liveHolds).
   */
  renewTime: string;
  ttlSeconds: number;
}

/** Annotation on the fleet Lease that lists the current holds (JSON array of Hold). */
export const ANNOTATION_HOLDERS = 'linkward.io/holders';

/**
 * Longest TTL believed from another node's hold, 1 day: the config schema's maximum of `leaseTtlSeconds`, so no
 * linkward writes more. A corrupt or foreign record (ttlSeconds 1e9, or 1e999 = Infinity after JSON.parse) would
 * otherwise keep a fleet slot taken, without any renewal, for as long as it claims.
 */
export const MAX_HOLD_TTL_SECONDS = 86_400;

/**
 * Sightings: for each hold record (holder, renewTime, ttl) in the Lease when this agent last read it, the monotonic
 * time at which this agent first saw that exact record. A renewal changes the record, so this is when the holder was
 * last seen renewing, measured on this agent's clock (client-go leader election's observedTime). Kept by the caller
 * across reads (component state); empty after a restart.
 */
export type HoldSightings = ReadonlyMap<string, number>;

const sightingKey = (h: Hold): string => JSON.stringify([h.holder, h.renewTime, h.ttlSeconds]);

/**
 * Sightings after a read at `monoMs` (taken once the response is in, so no earlier than any write it shows): a record
 * already seen keeps its time, a new one is seen now; records gone from the Lease are forgotten.
 */
export function observeHolds(prev: HoldSightings, holds: readonly Hold[], monoMs: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const h of holds) {
    const k = sightingKey(h);
    out.set(k, prev.get(k) ?? monoMs);
  }
  return out;
}

/**
 * Another node's hold counts this much longer than its TTL. The holder gives its hold up after the TTL by its own
 * clocks, others expire it after the TTL by theirs, and clocks do not run at one rate: NTP slews both the wall and
 * the monotonic clock (chrony by up to 83,333 ppm, 8.3 %, by default), so a holder slewed slow and an observer slewed
 * fast disagree by up to about 17 %. 1.2 keeps the observer's end after the holder's; a dead holder's slot frees 20 %
 * later for it.
 */
export const OBSERVED_TTL_FACTOR = 1.2;

/** How long this agent counts another node's hold after last seeing it change: TTL (at most MAX_HOLD_TTL_SECONDS) × OBSERVED_TTL_FACTOR. */
export function believedTtlMs(h: Hold): number {
  return Math.max(0, Math.min(h.ttlSeconds, MAX_HOLD_TTL_SECONDS)) * 1000 * OBSERVED_TTL_FACTOR;
}

/** Maximum holders: a count, or a percentage of `fleetSize` rounded down but at least 1 (so a small fleet is never frozen). */
export function fleetCap(maxUnavailable: number | string, fleetSize: number): number {
  if (typeof maxUnavailable === 'number') return maxUnavailable;
  const pct = Number(maxUnavailable.replace('%', ''));
  if (pct <= 0) return 0;
  return Math.max(1, Math.floor((pct * fleetSize) / 100));
}

export function parseHolds(annotation: string | undefined): Hold[] {
  if (!annotation) return [];
  try {
    const v = JSON.parse(annotation) as unknown;
    if (!Array.isArray(v)) return [];
    return v.filter((h): h is Hold => typeof h?.holder === 'string' && typeof h?.renewTime === 'string' && typeof h?.ttlSeconds === 'number');
  } catch {
    return [];
  }
}

/**
 * Holds that still count: held by a node that still exists in the fleet, and seen unchanged by this agent for less
 * than their (bounded) TTL × OBSERVED_TTL_FACTOR, on this agent's monotonic clock. A record not in `seen` counts as seen now. The holder's
 * renewTime is never compared with this agent's clock: a holder whose clock ran a day ahead would otherwise keep its
 * slot a day after it stopped renewing, and an agent whose clock runs ahead would judge fresh holds expired and grant
 * past the cap. This errs on one side only: the holder started its write before this agent could see it, and believes
 * it holds for its TTL from then (FleetSemaphore), so its belief ends first; a slot is at worst freed late, by how long
 * the record stood before this agent first read it (after this agent restarts: by up to the TTL).
 */
export function liveHolds(holds: readonly Hold[], seen: HoldSightings, monoMs: number, fleet: ReadonlySet<string> | null): Hold[] {
  return holds.filter((h) => {
    const since = seen.get(sightingKey(h)) ?? monoMs;
    if (monoMs - since >= believedTtlMs(h)) return false;
    return fleet === null || fleet.has(h.holder);
  });
}

/** The renewTime to write: now by this clock, but never the old value again (it must change for others to see a renewal). */
export function nextRenewTime(nowMs: number, previous: string | undefined): string {
  const t = new Date(nowMs).toISOString();
  const prev = previous === undefined ? Number.NaN : Date.parse(previous);
  return t === previous && Number.isFinite(prev) ? new Date(prev + 1).toISOString() : t;
}

/**
 * Why a node already counts as unavailable, or null: cordoned (by anyone), not Ready, or tainted NoSchedule/NoExecute
 * (by anyone: an admin, the node lifecycle controller's not-ready/unreachable taints, a dead linkward's leftovers).
 * PreferNoSchedule does not count: the node still takes pods.
 */
export function unavailableReason(n: NodeView): string | null {
  if (n.unschedulable) return 'cordoned';
  const ready = n.conditions.find((c) => c.type === 'Ready');
  if (ready && ready.status !== 'True') return `Ready=${ready.status}`;
  const t = n.taints.find((x) => x.effect === 'NoSchedule' || x.effect === 'NoExecute');
  return t ? `taint ${t.key}:${t.effect}` : null;
}

/** Unavailable nodes of the fleet by name, with why (see unavailableReason). */
export function unavailableNodes(nodes: readonly NodeView[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const n of nodes) {
    const r = unavailableReason(n);
    if (r) out.set(n.name, r);
  }
  return out;
}

export type FleetDecision = { granted: true; write: Hold[] } | { granted: false; live: number; cap: number; counted: string[] };

export interface AcquireInput {
  /** The Lease's holds, just read. */
  holds: readonly Hold[];
  /** Sightings including that read (observeHolds). */
  seen: HoldSightings;
  me: string;
  /** Wall clock: only for the renewTime written. */
  nowMs: number;
  /** Monotonic clock: judges the others' holds against `seen`. */
  monoMs: number;
  ttlSeconds: number;
  cap: number;
  fleet: ReadonlySet<string> | null;
  unavailable?: ReadonlyMap<string, string>;
}

/**
 * Decides an acquire or renew for `me`: returns the hold list to write. The caller asks only when its own renewal is
 * due or it believes it holds nothing, so a live hold of `me` is renewed at once without counting (after a restart
 * this agent cannot know how long ago its record was written; only a changed record tells the others it is held).
 * A new hold is granted while fewer than `cap` *other* nodes are unavailable: live holders plus every node in
 * `unavailable` (cordoned, NotReady, tainted NoSchedule/NoExecute by anyone), each node counted once. A dead holder's
 * cordon or taint therefore keeps counting after its hold expired, until someone removes it. Expired holds are left
 * out of the list written.
 */
export function decideAcquire(a: AcquireInput): FleetDecision {
  const live = liveHolds(a.holds, a.seen, a.monoMs, a.fleet);
  const mine = live.find((h) => h.holder === a.me);
  const renewed: Hold = { holder: a.me, renewTime: nextRenewTime(a.nowMs, mine?.renewTime), ttlSeconds: a.ttlSeconds };
  if (mine) return { granted: true, write: [...live.filter((h) => h.holder !== a.me), renewed] };
  const counted = new Map<string, string>(a.unavailable);
  for (const h of live) if (!counted.has(h.holder)) counted.set(h.holder, 'holds');
  counted.delete(a.me);
  if (counted.size >= a.cap) return { granted: false, live: counted.size, cap: a.cap, counted: [...counted].map(([n, why]) => `${n} (${why})`).sort() };
  return { granted: true, write: [...live, renewed] };
}

/** Hold list without `me` (null when `me` holds nothing: no write). */
export function decideRelease(holds: readonly Hold[], me: string): Hold[] | null {
  return holds.some((h) => h.holder === me) ? holds.filter((h) => h.holder !== me) : null;
}
