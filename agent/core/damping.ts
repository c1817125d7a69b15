/** Flap damping (RFC 2439 style): an exponentially decaying penalty per flap, suppress/reuse thresholds and a hold cap. Pure. */
import type { LinkHealthConfig } from './link-health.ts';

export type DampingPolicy = LinkHealthConfig['damping'];

/** Damping state of one uplink; `penalty` is the value at `atMs` (decay is applied lazily). */
export interface DampingState {
  penalty: number;
  atMs: number;
  /** True while the penalty has not yet fallen below the reuse threshold after exceeding suppress. */
  suppressed: boolean;
  /**
   * When the last flap was counted. Suppression ends at most `maxHoldS` after it, whatever the penalty (RFC 2439's
   * max-suppress-time). Absent in state restored from before this field existed: `atMs` (when it was saved) stands in.
   */
  lastFlapMs?: number;
}

/** Penalties below this are treated as zero (keeps stored state and metrics tidy). */
const NEGLIGIBLE_PENALTY = 1;

export function initialDamping(nowMs: number): DampingState {
  return { penalty: 0, atMs: nowMs, suppressed: false };
}

/** Penalty at `nowMs` after exponential decay; never increases with time (no decay for a `nowMs` before `atMs`). */
export function decayedPenalty(d: DampingState, nowMs: number, policy: DampingPolicy): number {
  const elapsedMs = Math.max(0, nowMs - d.atMs);
  const p = d.penalty * Math.pow(2, -elapsedMs / (policy.halfLifeS * 1000));
  return p < NEGLIGIBLE_PENALTY ? 0 : p;
}

/** End of the hold cap of a suppressed state: `maxHoldS` after its last flap. */
function holdCapMs(d: DampingState, policy: DampingPolicy): number {
  return (d.lastFlapMs ?? d.atMs) + policy.maxHoldS * 1000;
}

/**
 * The state with its times moved back to `nowMs` when the wall clock is behind them: NTP stepped a clock that was ahead
 * back, while the agent ran or between the save and a restart. Counted from future times, the penalty would not decay
 * and the hold cap (`lastFlapMs + maxHoldS`) would stretch by the clock's error (a day ahead: a link held degraded, and
 * traffic kept off it, for a day). Rebased, the penalty decays from now and a hold ends within `maxHoldS`.
 */
export function rebased(d: DampingState, nowMs: number): DampingState {
  if (nowMs >= d.atMs) return d;
  const out: DampingState = { ...d, atMs: nowMs };
  if (d.lastFlapMs !== undefined) out.lastFlapMs = Math.min(d.lastFlapMs, nowMs);
  return out;
}

/**
 * Brings the state to `nowMs`: decays the penalty and releases suppression once it is below the reuse threshold or the
 * hold cap has passed. A release by the cap lowers the penalty to the reuse threshold, so the next flap alone does not
 * suppress again (two more within a half-life do). Times later than `nowMs` are first brought back to it (rebased).
 */
export function decay(saved: DampingState, nowMs: number, policy: DampingPolicy): DampingState {
  const d = rebased(saved, nowMs);
  let penalty = decayedPenalty(d, nowMs, policy);
  const capped = d.suppressed && nowMs >= holdCapMs(d, policy);
  if (capped) penalty = Math.min(penalty, policy.reuseBelow);
  const suppressed = d.suppressed && !capped && penalty >= policy.reuseBelow;
  const out: DampingState = { penalty, atMs: nowMs, suppressed };
  if (d.lastFlapMs !== undefined) out.lastFlapMs = d.lastFlapMs;
  return out;
}

/** Records one flap at `nowMs`: adds the per-flap penalty (capped) and suppresses above the threshold. */
export function addFlap(d: DampingState, nowMs: number, policy: DampingPolicy): DampingState {
  const cur = decay(d, nowMs, policy);
  if (!policy.enabled) return cur;
  const penalty = Math.min(policy.maxPenalty, cur.penalty + policy.penaltyPerFlap);
  return { penalty, atMs: cur.atMs, suppressed: cur.suppressed || penalty > policy.suppressAbove, lastFlapMs: Math.max(nowMs, cur.lastFlapMs ?? -Infinity) };
}

/** When a suppressed state will be released if no further flap happens (null when not suppressed). */
export function releaseAtMs(d: DampingState, policy: DampingPolicy): number | null {
  if (!d.suppressed) return null;
  if (d.penalty < policy.reuseBelow) return d.atMs;
  const halfLives = Math.log2(d.penalty / policy.reuseBelow);
  // +1 ms so that the evaluation at that instant is strictly below the reuse threshold.
  return Math.min(d.atMs + Math.ceil(halfLives * policy.halfLifeS * 1000) + 1, holdCapMs(d, policy));
}
