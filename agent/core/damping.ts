/** Flap damping (RFC 2439 style): an exponentially decaying penalty per flap, with suppress/reuse thresholds. Pure. */
import type { LinkHealthConfig } from '../link/config.ts';

export type DampingPolicy = LinkHealthConfig['damping'];

/** Damping state of one uplink; `penalty` is the value at `atMs` (decay is applied lazily). */
export interface DampingState {
  penalty: number;
  atMs: number;
  /** True while the penalty has not yet fallen below the reuse threshold after exceeding suppress. */
  suppressed: boolean;
}

/** Penalties below this are treated as zero (keeps stored state and metrics tidy). */
const NEGLIGIBLE_PENALTY = 1;

export function initialDamping(nowMs: number): DampingState {
  return { penalty: 0, atMs: nowMs, suppressed: false };
}

/** Penalty at `nowMs` after exponential decay; never increases with time, and a clock going backwards is ignored. */
export function decayedPenalty(d: DampingState, nowMs: number, policy: DampingPolicy): number {
  const elapsedMs = Math.max(0, nowMs - d.atMs);
  const p = d.penalty * Math.pow(2, -elapsedMs / (policy.halfLifeS * 1000));
  return p < NEGLIGIBLE_PENALTY ? 0 : p;
}

/** Brings the state to `nowMs`: decays the penalty and releases suppression once it is below the reuse threshold. */
export function decay(d: DampingState, nowMs: number, policy: DampingPolicy): DampingState {
  const penalty = decayedPenalty(d, nowMs, policy);
  const suppressed = d.suppressed && penalty >= policy.reuseBelow;
  return { penalty, atMs: Math.max(nowMs, d.atMs), suppressed };
}

/** Records one flap at `nowMs`: adds the per-flap penalty (capped) and suppresses above the threshold. */
export function addFlap(d: DampingState, nowMs: number, policy: DampingPolicy): DampingState {
  const cur = decay(d, nowMs, policy);
  if (!policy.enabled) return cur;
  const penalty = Math.min(policy.maxPenalty, cur.penalty + policy.penaltyPerFlap);
  return { penalty, atMs: cur.atMs, suppressed: cur.suppressed || penalty > policy.suppressAbove };
}

/** When a suppressed state will be released if no further flap happens (null when not suppressed). */
export function releaseAtMs(d: DampingState, policy: DampingPolicy): number | null {
  if (!d.suppressed) return null;
  if (d.penalty < policy.reuseBelow) return d.atMs;
  const halfLives = Math.log2(d.penalty / policy.reuseBelow);
  // +1 ms so that the evaluation at that instant is strictly below the reuse threshold.
  return d.atMs + Math.ceil(halfLives * policy.halfLifeS * 1000) + 1;
}
