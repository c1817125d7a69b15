/** Degradation evidence for the policy (pure): the link-state verdict recomputed with loss smoothed over minutes. */
import type { UplinkView } from '../core/types.ts';
import { computeVerdict, METRIC_FIELDS, type MergedMetrics } from '../core/link-verdict.ts';
import type { LinkHealthConfig } from '../config/link.ts';

/** Time constant of the loss smoothing used before leaving a degraded uplink: 5 min averages 1 % random loss out to ≈1 %, while sustained 10 % loss still crosses a 3 % threshold within ≈2 min. */
export const LOSS_SMOOTHING_MS = 300_000;

/**
 * Link-state verdict of the latest measurements with loss replaced by its smoothed value (random loss blips vanish)
 * and the loss "degraded" threshold raised to at least `minLossPercent` (policy.degradedSwitchLossPercent).
 */
export function smoothedVerdict(
  view: UplinkView,
  lossSmoothed: number | undefined,
  nowMs: number,
  health: LinkHealthConfig,
  minLossPercent: number,
): UplinkView['health'] {
  const loss = health.thresholds.lossPercent;
  const strict: LinkHealthConfig = {
    ...health,
    thresholds: { ...health.thresholds, lossPercent: { ...loss, degraded: { ...loss.degraded, enter: Math.max(loss.degraded.enter, minLossPercent) } } },
  };
  const at = view.latest.atMs ?? nowMs;
  const m: MergedMetrics = { values: {}, atMs: {}, lastMs: at };
  for (const f of METRIC_FIELDS) {
    const v = f === 'lossPercent' && lossSmoothed !== undefined ? lossSmoothed : view.latest[f];
    if (v === undefined) continue;
    m.values[f] = v;
    m.atMs[f] = at;
  }
  return computeVerdict(m, 'healthy', nowMs, strict).health;
}
