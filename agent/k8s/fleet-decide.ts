/** Pure: the fleet semaphore's decisions (cap from count or percentage, live holders, grant or refuse). */

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

export type FleetDecision =
  | { granted: true; write: Hold[] | null }
  | { granted: false; live: number; cap: number };

/**
 * Decides an acquire or renew for `me`: returns the hold list to write (null = nothing to write).
 * A renewal is written once a third of the TTL has passed.
 */
export function decideAcquire(holds: readonly Hold[], me: string, nowMs: number, ttlSeconds: number, cap: number, fleet: ReadonlySet<string> | null): FleetDecision {
  const live = liveHolds(holds, nowMs, fleet);
  const mine = live.find((h) => h.holder === me);
  const renewed: Hold = { holder: me, renewTime: new Date(nowMs).toISOString(), ttlSeconds };
  if (mine) {
    const due = nowMs - Date.parse(mine.renewTime) >= (ttlSeconds * 1000) / 3;
    return { granted: true, write: due ? [...live.filter((h) => h.holder !== me), renewed] : null };
  }
  if (live.length >= cap) return { granted: false, live: live.length, cap };
  return { granted: true, write: [...live, renewed] };
}

/** Hold list without `me` (null when `me` holds nothing: no write). */
export function decideRelease(holds: readonly Hold[], me: string): Hold[] | null {
  return holds.some((h) => h.holder === me) ? holds.filter((h) => h.holder !== me) : null;
}
