/** When to re-test throughput and when a figure needs a second test before it counts. Pure. */
import type { UplinkView, VoidReason } from '../agent/core/types.ts';
import type { LinkHealthConfig } from '../agent/config/link.ts';
import { THROUGHPUT_FIELDS } from '../agent/core/link-verdict.ts';

/**
 * A figure held the link worse is re-measured at this share of its max-age (maxAge.lowThroughputS), so a link that
 * really is slow is re-confirmed before its figure expires and does not flap healthy in between.
 */
export const RECHECK_AT_AGE_SHARE = 0.75;
/** The agent's own CPU time during a test at or above this share of the wall time: the figure is bounded by the CPU, not the link. */
export const CPU_BOUND_SHARE = 0.9;

/** True when only a throughput figure keeps the uplink degraded or down (light probes say nothing is wrong). */
export function heldByThroughputOnly(view: UplinkView | undefined): boolean {
  if (!view || (view.health !== 'degraded' && view.health !== 'down')) return false;
  const held = view.heldBy ?? [];
  return held.length > 0 && held.every((f) => (THROUGHPUT_FIELDS as ReadonlySet<string>).has(f));
}

export interface RecheckInput {
  view: UplinkView | undefined;
  nowMs: number;
  lastThroughputMs: number;
  /** A light round since the last throughput test found the uplink unreachable or lossy (it has recovered since). */
  lightWasBad: boolean;
  minGapMs: number;
  policy: LinkHealthConfig;
}

/**
 * A throughput re-test is due when only a throughput figure holds the uplink worse, and either light probes saw the
 * link bad and now good since that figure (a recovery: re-test after `minGapMs`), or the figure is nearing its
 * max-age (a slow link is re-confirmed before its figure expires).
 */
export function recheckDue(r: RecheckInput): boolean {
  if (!heldByThroughputOnly(r.view)) return false;
  const age = r.nowMs - r.lastThroughputMs;
  if (r.lightWasBad) return age >= r.minGapMs;
  return age >= RECHECK_AT_AGE_SHARE * r.policy.maxAge.lowThroughputS * 1000;
}

/** The level threshold of a direction's figure (degraded enter value). */
function enterValue(direction: 'down' | 'up', policy: LinkHealthConfig): number {
  return direction === 'down' ? policy.thresholds.downloadMbps.degraded.enter : policy.thresholds.uploadMbps.degraded.enter;
}

/**
 * A figure that would put the uplink into a worse level it is not already held in contradicts the recent evidence:
 * one reading (a TCP stall, a burst of loss) must not cordon a node or switch a route, so it needs a second test.
 */
export function needsConfirmation(direction: 'down' | 'up', mbps: number, view: UplinkView | undefined, policy: LinkHealthConfig): boolean {
  if (mbps >= enterValue(direction, policy)) return false;
  const field = direction === 'down' ? 'downloadMbps' : 'uploadMbps';
  const alreadyHeld = (view?.heldBy ?? []).includes(field) && (view?.health === 'degraded' || view?.health === 'down');
  return !alreadyHeld;
}

/** Two readings of one direction: the link is as fast as the better one (both must be low for a low verdict). */
export function confirmedFigure(first: number, second: number | undefined): number {
  return second === undefined ? first : Math.max(first, second);
}

/** Why a direction's figure can only be a lower bound, from what the agent saw while it ran (null: trusted). */
export function suspectFigure(o: { starved: boolean; stalled: boolean; cpuMs: number; wallMs: number }): VoidReason | null {
  if (o.starved) return 'starved';
  if (o.stalled) return 'stalled';
  if (o.wallMs > 0 && o.cpuMs >= CPU_BOUND_SHARE * o.wallMs) return 'cpu_bound';
  return null;
}
