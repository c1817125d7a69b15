/** Instantaneous verdict for one uplink from its latest measurements: thresholds with hysteresis, quorum, carrier, staleness. Pure. */
import type { LinkHealth } from './types.ts';
import { fmtPair } from './fmt.ts';
import { THRESHOLD_METRICS, type LinkHealthConfig, type ThresholdMetric } from './link-health.ts';

/** Measured fields kept per uplink (last known value of each, with the time it was measured). */
export type MetricField =
  | 'rttMs'
  | 'rttP95Ms'
  | 'jitterMs'
  | 'lossPercent'
  | 'lossSamples'
  | 'downloadMbps'
  | 'uploadMbps'
  | 'targetsUp'
  | 'targetsTotal'
  | 'reachable'
  | 'carrier'
  | 'downloadLowerBound'
  | 'uploadLowerBound'
  | 'idleRttMs'
  | 'loadedRttMs'
  | 'responsivenessRpm';

export const METRIC_FIELDS: readonly MetricField[] = [
  'rttMs',
  'rttP95Ms',
  'jitterMs',
  'lossPercent',
  'lossSamples',
  'downloadMbps',
  'uploadMbps',
  'targetsUp',
  'targetsTotal',
  'reachable',
  'carrier',
  'downloadLowerBound',
  'uploadLowerBound',
  'idleRttMs',
  'loadedRttMs',
  'responsivenessRpm',
];

/**
 * Loss may *enter* a level only when a healthy link would show that many lost packets by chance less often than
 * this. One lost probe in a 20-packet window reads as 5 %, above a 3 % threshold: without the test, a link with 1 %
 * random loss (ordinary on cellular) would be degraded most of the time. 0.1 % keeps chance entries rare (about once
 * per 1,000 independent windows at the healthy level: none in 6 simulated hours of 1 % loss with windows of 20 or 60,
 * scripts/bench/link-random-loss.ts) while 10 % real loss still shows within about a minute of rounds.
 */
export const LOSS_EVIDENCE_ALPHA = 0.001;

/**
 * Fewest lost packets out of `n` that are evidence of loss above `healthyPercent` (the degraded exit value): the
 * smallest k with P(X ≥ k) ≤ LOSS_EVIDENCE_ALPHA for X ~ Binomial(n, healthyPercent/100). 3 for the default window
 * of 20 at 1 %, 4 for 60, 5 for 100. Pure.
 */
export function minLostPackets(n: number, healthyPercent: number): number {
  const p = healthyPercent / 100;
  if (p <= 0) return 1;
  if (p >= 1) return n + 1;
  let pmf = (1 - p) ** n;
  let cdf = pmf;
  for (let k = 1; k <= n; k++) {
    if (1 - cdf <= LOSS_EVIDENCE_ALPHA) return k;
    pmf = (pmf * (n - k + 1) * p) / (k * (1 - p));
    cdf += pmf;
  }
  return n + 1;
}

/** Fields measured by throughput probes (rare, so they have their own max-age). */
export const THROUGHPUT_FIELDS: ReadonlySet<MetricField> = new Set(['downloadMbps', 'uploadMbps']);
/** Fields only a throughput test reports (shown, never judged): lower-bound flags and latency under load. */
export const LOAD_FIELDS: ReadonlySet<MetricField> = new Set(['downloadLowerBound', 'uploadLowerBound', 'idleRttMs', 'loadedRttMs', 'responsivenessRpm']);

export interface MergedMetrics {
  values: Partial<Record<MetricField, number | boolean>>;
  atMs: Partial<Record<MetricField, number>>;
  /** Time of the newest sample merged (null: never measured). */
  lastMs: number | null;
}

export function emptyMetrics(): MergedMetrics {
  return { values: {}, atMs: {}, lastMs: null };
}

/** Ordering used for hysteresis and "worst of" (unknown sorts with healthy: no level entered yet). */
export const LEVEL_RANK: Readonly<Record<LinkHealth, number>> = { unknown: 0, healthy: 0, degraded: 1, down: 2 };

export function worse(a: LinkHealth, b: LinkHealth): LinkHealth {
  return LEVEL_RANK[b] > LEVEL_RANK[a] ? b : a;
}

export interface Verdict {
  health: LinkHealth;
  reasons: string[];
  /** True when `down` comes from carrier loss or quorum (uses the hard-down dwell). */
  hard: boolean;
  /** Fields whose values put the link in `health` (carrier, reachable, or a crossed threshold metric). */
  crossed: MetricField[];
}

/**
 * True when a throughput figure is low enough to hold the link in a level (below the degraded exit value): such a
 * figure expires after maxAge.lowThroughputS, a healthy one after maxAge.throughputS. An old good figure only shows;
 * an old bad one would keep a node cordoned on a link that recovered, so it must be re-measured or let go.
 */
export function isLowThroughput(f: MetricField, v: unknown, policy: LinkHealthConfig): boolean {
  if (typeof v !== 'number') return false;
  if (f === 'downloadMbps') return v < policy.thresholds.downloadMbps.degraded.exit;
  if (f === 'uploadMbps') return v < policy.thresholds.uploadMbps.degraded.exit;
  return false;
}

/** Max-age of a field's value (ms). */
export function maxAgeMs(f: MetricField, v: unknown, policy: LinkHealthConfig): number {
  if (isLowThroughput(f, v, policy)) return policy.maxAge.lowThroughputS * 1000;
  return (THROUGHPUT_FIELDS.has(f) || LOAD_FIELDS.has(f) ? policy.maxAge.throughputS : policy.maxAge.lightS) * 1000;
}

/** True when the field has a value measured no longer than its max-age ago. */
export function isFresh(m: MergedMetrics, f: MetricField, nowMs: number, policy: LinkHealthConfig): boolean {
  const at = m.atMs[f];
  const v = m.values[f];
  return at !== undefined && v !== undefined && nowMs - at <= maxAgeMs(f, v, policy);
}

/**
 * True unless the window size is known and its lost packets are no evidence of loss above `baselinePercent`, the exit
 * value of the level being entered (see minLostPackets): 1 % for degraded, 15 % for down at the defaults, so 10 %
 * random loss in a 20-packet window does not reach `down` by the chance of 5 lost packets.
 */
function enoughLostPackets(m: MergedMetrics, lossPercent: number, baselinePercent: number, nowMs: number, policy: LinkHealthConfig): boolean {
  const n = m.values.lossSamples;
  if (typeof n !== 'number' || n <= 0 || !isFresh(m, 'lossSamples', nowMs, policy)) return true;
  return Math.round((lossPercent * n) / 100) >= minLostPackets(n, baselinePercent);
}

/**
 * Verdict from the fresh metrics. `current` is the published state. Hysteresis is per metric: a metric that holds the
 * link in its level (`held`, the fields that put it there) leaves it only past the stricter exit value; any other metric
 * must pass the enter value, so a link degraded by a slow download is not kept there by one lost packet in 20 that
 * happens to read above the 1 % loss exit value. `held` undefined: every metric of the current level counts as holding.
 */
export function computeVerdict(m: MergedMetrics, current: LinkHealth, nowMs: number, policy: LinkHealthConfig, held?: readonly MetricField[]): Verdict {
  // display-only figures (latency under load, lower-bound flags) are never evidence of health
  const fresh = METRIC_FIELDS.filter((f) => !LOAD_FIELDS.has(f) && isFresh(m, f, nowMs, policy));
  if (m.lastMs === null) return { health: 'unknown', reasons: ['no measurement yet'], hard: false, crossed: [] };
  if (fresh.length === 0) {
    const ageS = Math.round((nowMs - m.lastMs) / 1000);
    return { health: 'unknown', reasons: [`stale: last measurement ${ageS}s ago>${policy.maxAge.lightS}`], hard: false, crossed: [] };
  }
  const has = (f: MetricField): boolean => fresh.includes(f);
  const hardReasons: string[] = [];
  const crossed: MetricField[] = [];
  if (has('carrier') && m.values.carrier === false) {
    hardReasons.push('carrier=lost');
    crossed.push('carrier');
  }
  if (has('reachable') && m.values.reachable === false) {
    crossed.push('reachable');
    const up = m.values.targetsUp;
    const total = m.values.targetsTotal;
    hardReasons.push(
      typeof up === 'number' && typeof total === 'number' && has('targetsUp')
        ? `unreachable=${up}/${total} targets<quorum`
        : 'unreachable=no quorum of targets',
    );
  }
  const reasons: string[] = [...hardReasons];
  let health: LinkHealth = hardReasons.length > 0 ? 'down' : 'healthy';
  for (const key of Object.keys(THRESHOLD_METRICS) as ThresholdMetric[]) {
    const meta = THRESHOLD_METRICS[key];
    if (!has(meta.field)) continue;
    const v = m.values[meta.field];
    if (typeof v !== 'number') continue;
    const t = policy.thresholds[key];
    const rank = held === undefined || held.includes(meta.field) ? LEVEL_RANK[current] : 0;
    for (const lvl of ['down', 'degraded'] as const) {
      const l = t[lvl];
      if (!l) continue;
      const entering = rank < LEVEL_RANK[lvl];
      const limit = entering ? l.enter : l.exit;
      const isOver = meta.dir === 'min' ? v < limit : v > limit;
      if (!isOver) continue;
      if (entering && meta.field === 'lossPercent' && !enoughLostPackets(m, v, l.exit, nowMs, policy)) continue;
      const [vs, ls] = fmtPair(v, limit);
      reasons.push(`${meta.short}=${vs}${meta.unit}${meta.dir === 'min' ? '<' : '>'}${ls}`);
      crossed.push(meta.field);
      health = worse(health, lvl);
      break;
    }
  }
  return { health, reasons: health === 'healthy' ? [] : reasons, hard: hardReasons.length > 0, crossed: health === 'healthy' ? [] : crossed };
}
