/** Pure rule: do light-probe results suggest the link changed enough to justify an on-demand throughput probe? */
import type { WindowSummary } from './stats.ts';

/** Relative RTT change that counts as a change (50 %): smaller swings are ordinary jitter on cellular links. */
export const RTT_CHANGE_RATIO = 0.5;
/** Absolute floor for an RTT change (ms), so 1 → 2 ms on a LAN is not a "change". */
export const RTT_CHANGE_FLOOR_MS = 20;
/** Loss increase (percentage points) that counts as a change. */
export const LOSS_CHANGE_POINTS = 5;

/** True when `cur` differs from `baseline` by more than the thresholds above. */
export function suggestsChange(baseline: WindowSummary | undefined, cur: WindowSummary): boolean {
  if (!baseline || baseline.rttMs === undefined || cur.rttMs === undefined) return false;
  const d = Math.abs(cur.rttMs - baseline.rttMs);
  if (d >= RTT_CHANGE_FLOOR_MS && d >= RTT_CHANGE_RATIO * baseline.rttMs) return true;
  return (cur.lossPercent ?? 0) - (baseline.lossPercent ?? 0) >= LOSS_CHANGE_POINTS;
}
