/** Instantaneous verdict for one uplink from its latest measurements: thresholds with hysteresis, quorum, carrier, staleness. Pure. */
import type { LinkHealth, ProbeSample } from './types.ts';
import { fmt } from './fmt.ts';
import { THRESHOLD_METRICS, type LinkHealthConfig, type ThresholdMetric } from '../link/config.ts';

/** Measured fields kept per uplink (last known value of each, with the time it was measured). */
export type MetricField = 'rttMs' | 'rttP95Ms' | 'jitterMs' | 'lossPercent' | 'lossSamples' | 'downloadMbps' | 'uploadMbps' | 'targetsUp' | 'targetsTotal' | 'reachable' | 'carrier';

export const METRIC_FIELDS: readonly MetricField[] = ['rttMs', 'rttP95Ms', 'jitterMs', 'lossPercent', 'lossSamples', 'downloadMbps', 'uploadMbps', 'targetsUp', 'targetsTotal', 'reachable', 'carrier'];

/**
 * Loss may *enter* a level only when a healthy link would show that many lost packets by chance less often than
 * this. One lost probe in a 20-packet window reads as 5 %, above a 3 % threshold: without the test, a link with 1 %
 * random loss (ordinary on cellular) would be degraded most of the time. 0.5 % keeps chance entries rare (about once
 * per 200 windows at the healthy level) while 10 % real loss still shows within a few rounds.
 */
export const LOSS_EVIDENCE_ALPHA = 0.005;

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
const THROUGHPUT_FIELDS: ReadonlySet<MetricField> = new Set(['downloadMbps', 'uploadMbps']);

export interface MergedMetrics {
  values: Partial<Record<MetricField, number | boolean>>;
  atMs: Partial<Record<MetricField, number>>;
  /** Time of the newest sample merged (null: never measured). */
  lastMs: number | null;
}

export function emptyMetrics(): MergedMetrics {
  return { values: {}, atMs: {}, lastMs: null };
}

/**
 * Whether a sample's field is taken. Passive samples carry byte-counter rates in downloadMbps/uploadMbps: that is how
 * much the link was *used*, a lower bound on what it can carry, so a rate only raises an existing measurement.
 */
function trusted(m: MergedMetrics, s: ProbeSample, f: MetricField): boolean {
  if (s.kind === 'light') return !THROUGHPUT_FIELDS.has(f);
  if (s.kind !== 'passive' || f === 'carrier') return true;
  if (!THROUGHPUT_FIELDS.has(f)) return false;
  const cur = m.values[f];
  const v = s[f];
  return typeof cur === 'number' && typeof v === 'number' && v > cur;
}

/** Merges one sample: every trusted field it carries replaces the last known value; absent fields keep theirs. */
export function mergeSample(m: MergedMetrics, s: ProbeSample): MergedMetrics {
  const values = { ...m.values };
  const atMs = { ...m.atMs };
  let merged = false;
  for (const f of METRIC_FIELDS) {
    if (!trusted(m, s, f)) continue;
    // A quorum of answers in the same round proves the carrier is up; a "lost" flag next to it is a cached fact.
    const v = f === 'carrier' && s.carrier === false && s.reachable === true ? true : s[f];
    if (v === undefined || (typeof v === 'number' && !Number.isFinite(v))) continue;
    // An older sample arriving late must not overwrite a newer value.
    if ((atMs[f] ?? -Infinity) > s.atMs) continue;
    values[f] = v;
    atMs[f] = s.atMs;
    merged = true;
  }
  // Quorum: when the probe did not say, a majority of answering targets counts as reachable.
  if (s.reachable === undefined && s.targetsUp !== undefined && s.targetsTotal !== undefined && s.targetsTotal > 0 && (atMs.reachable ?? -Infinity) <= s.atMs) {
    values.reachable = s.targetsUp * 2 > s.targetsTotal;
    atMs.reachable = s.atMs;
  }
  // A sample that measured nothing (e.g. only bytes counted) is not a measurement.
  return { values, atMs, lastMs: merged ? Math.max(m.lastMs ?? -Infinity, s.atMs) : m.lastMs };
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
}


function maxAgeMs(f: MetricField, policy: LinkHealthConfig): number {
  return (THROUGHPUT_FIELDS.has(f) ? policy.maxAge.throughputS : policy.maxAge.lightS) * 1000;
}

/** True when the field has a value measured no longer than its max-age ago. */
export function isFresh(m: MergedMetrics, f: MetricField, nowMs: number, policy: LinkHealthConfig): boolean {
  const at = m.atMs[f];
  return at !== undefined && m.values[f] !== undefined && nowMs - at <= maxAgeMs(f, policy);
}

/** True unless the window size is known and its lost packets are no evidence of loss (see minLostPackets). */
function enoughLostPackets(m: MergedMetrics, lossPercent: number, nowMs: number, policy: LinkHealthConfig): boolean {
  const n = m.values.lossSamples;
  if (typeof n !== 'number' || n <= 0 || !isFresh(m, 'lossSamples', nowMs, policy)) return true;
  const healthyPercent = policy.thresholds.lossPercent.degraded?.exit ?? 0;
  return Math.round((lossPercent * n) / 100) >= minLostPackets(n, healthyPercent);
}

/**
 * Verdict from the fresh metrics. `current` is the published state: levels it is already in are left only past
 * their (stricter) exit value, levels it is not in are entered past their enter value.
 */
export function computeVerdict(m: MergedMetrics, current: LinkHealth, nowMs: number, policy: LinkHealthConfig): Verdict {
  const fresh = METRIC_FIELDS.filter((f) => isFresh(m, f, nowMs, policy));
  if (m.lastMs === null) return { health: 'unknown', reasons: ['no measurement yet'], hard: false };
  if (fresh.length === 0) {
    const ageS = Math.round((nowMs - m.lastMs) / 1000);
    return { health: 'unknown', reasons: [`stale: last measurement ${ageS}s ago>${policy.maxAge.lightS}`], hard: false };
  }
  const has = (f: MetricField): boolean => fresh.includes(f);
  const hardReasons: string[] = [];
  if (has('carrier') && m.values.carrier === false) hardReasons.push('carrier=lost');
  if (has('reachable') && m.values.reachable === false) {
    const up = m.values.targetsUp;
    const total = m.values.targetsTotal;
    hardReasons.push(typeof up === 'number' && typeof total === 'number' && has('targetsUp') ? `unreachable=${up}/${total} targets<quorum` : 'unreachable=no quorum of targets');
  }
  const reasons: string[] = [...hardReasons];
  let health: LinkHealth = hardReasons.length > 0 ? 'down' : 'healthy';
  const rank = LEVEL_RANK[current];
  for (const key of Object.keys(THRESHOLD_METRICS) as ThresholdMetric[]) {
    const meta = THRESHOLD_METRICS[key];
    if (!has(meta.field)) continue;
    const v = m.values[meta.field];
    if (typeof v !== 'number') continue;
    const t = policy.thresholds[key];
    for (const lvl of ['down', 'degraded'] as const) {
      const l = t[lvl];
      if (!l) continue;
      const entering = rank < LEVEL_RANK[lvl];
      const limit = entering ? l.enter : l.exit;
      const crossed = meta.dir === 'min' ? v < limit : v > limit;
      if (!crossed) continue;
      if (entering && meta.field === 'lossPercent' && !enoughLostPackets(m, v, nowMs, policy)) continue;
      reasons.push(`${meta.short}=${fmt(v)}${meta.unit}${meta.dir === 'min' ? '<' : '>'}${fmt(limit)}`);
      health = worse(health, lvl);
      break;
    }
  }
  return { health, reasons: health === 'healthy' ? [] : reasons, hard: hardReasons.length > 0 };
}
