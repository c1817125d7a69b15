/** Pure: the fleet semaphore's decisions (cap from count or percentage, who is unavailable, grant or refuse). */
import type { NodeView } from './types.ts';

/** One hold recorded in the fleet Lease's annotation. */
export interface Hold {
  holder: string;
  /** RFC 3339 time of the holder's last renewal (by its own clock). */
  renewTime: string;
  ttlSeconds: number;
}

/** Annotation on the fleet Lease that lists the current holds (JSON array of Hold). */
export const ANNOTATION_HOLDERS = 'linkward.io/holders';

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

/** Holds that still count: not expired, and held by a node that still exists in the fleet. */
export function liveHolds(holds: readonly Hold[], nowMs: number, fleet: ReadonlySet<string> | null): Hold[] {
  return holds.filter((h) => {
    const t = Date.parse(h.renewTime);
    if (!Number.isFinite(t) || t + h.ttlSeconds * 1000 <= nowMs) return false;
    return fleet === null || fleet.has(h.holder);
  });
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

export type FleetDecision = { granted: true; write: Hold[] | null } | { granted: false; live: number; cap: number; counted: string[] };

/**
 * Decides an acquire or renew for `me`: returns the hold list to write (null = nothing to write).
 * A renewal is written once a third of the TTL has passed; a live hold is always renewed.
 * A new hold is granted while fewer than `cap` *other* nodes are unavailable: live holders plus every node in
 * `unavailable` (cordoned, NotReady, tainted NoSchedule/NoExecute by anyone), each node counted once. A dead holder's
 * cordon or taint therefore keeps counting after its hold expired, until someone removes it.
 */
export function decideAcquire(
  holds: readonly Hold[],
  me: string,
  nowMs: number,
  ttlSeconds: number,
  cap: number,
  fleet: ReadonlySet<string> | null,
  unavailable: ReadonlyMap<string, string> = new Map(),
): FleetDecision {
  const live = liveHolds(holds, nowMs, fleet);
  const mine = live.find((h) => h.holder === me);
  const renewed: Hold = { holder: me, renewTime: new Date(nowMs).toISOString(), ttlSeconds };
  if (mine) {
    const due = nowMs - Date.parse(mine.renewTime) >= (ttlSeconds * 1000) / 3;
    return { granted: true, write: due ? [...live.filter((h) => h.holder !== me), renewed] : null };
  }
  const counted = new Map<string, string>(unavailable);
  for (const h of live) if (!counted.has(h.holder)) counted.set(h.holder, 'holds');
  counted.delete(me);
  if (counted.size >= cap) return { granted: false, live: counted.size, cap, counted: [...counted].map(([n, why]) => `${n} (${why})`).sort() };
  return { granted: true, write: [...live, renewed] };
}

/** Hold list without `me` (null when `me` holds nothing: no write). */
export function decideRelease(holds: readonly Hold[], me: string): Hold[] | null {
  return holds.some((h) => h.holder === me) ? holds.filter((h) => h.holder !== me) : null;
}
