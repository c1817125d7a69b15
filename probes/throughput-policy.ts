/** When to re-test throughput and when a figure needs a second test before it counts. Pure. */
import type { UplinkView, VoidReason } from '../agent/core/types.ts';
import type { LinkHealthConfig } from '../agent/config/link.ts';
import { THROUGHPUT_FIELDS } from '../agent/core/link-verdict.ts';
import type { ThreadCpu } from './run-queue.ts';

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
/** The degraded enter value of a direction: a figure below it is bad news for a healthy uplink. */
export function enterValue(direction: 'down' | 'up', policy: LinkHealthConfig): number {
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

/**
 * The event-loop thread wanted a CPU (ran or waited in a run queue) for at least CPU_BOUND_SHARE of the test: it never
 * sat idle waiting for the link, so the figure is what the CPU it got allowed. Measured on the 2-core VM, loopback
 * speed test, 8 busy loops at the agent's nice level: the loop never lagged 100 ms, the process used 22–41 % of the
 * wall time (neither check fired) and the thread waited for a CPU 68–76 % of it; quiet, it ran plus waited 49–72 %.
 */
export function loopBound(loop: ThreadCpu | null | undefined, wallMs: number): boolean {
  return loop != null && wallMs > 0 && loop.runMs + loop.waitMs >= CPU_BOUND_SHARE * wallMs;
}

/** Why a direction's figure can only be a lower bound, from what the agent saw while it ran (null: trusted). */
export function suspectFigure(o: { starved: boolean; stalled: boolean; cpuMs: number; wallMs: number; loop?: ThreadCpu | null }): VoidReason | null {
  if (o.starved) return 'starved';
  if (o.stalled) return 'stalled';
  if (o.wallMs > 0 && o.cpuMs >= CPU_BOUND_SHARE * o.wallMs) return 'cpu_bound';
  if (loopBound(o.loop, o.wallMs)) return 'cpu_bound';
  return null;
}
