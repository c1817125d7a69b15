/** Merging probe samples into an uplink's latest metrics: freshness by field, and guarded fields that may only improve a verdict. Pure. */
import type { LinkHealth, ProbeSample } from './types.ts';
import type { LinkHealthConfig } from './link-health.ts';
import { LEVEL_RANK, LOAD_FIELDS, METRIC_FIELDS, THROUGHPUT_FIELDS, computeVerdict, type MergedMetrics, type MetricField } from './link-verdict.ts';

/**
 * Whether a sample's field is taken. Passive samples carry byte-counter rates in downloadMbps/uploadMbps: that is how
 * much the link was *used*, a lower bound on what it can carry, so a rate only raises an existing measurement. Latency
 * under load and lower-bound flags come only from throughput tests.
 */
function accepted(m: MergedMetrics, s: ProbeSample, f: MetricField): boolean {
  if (LOAD_FIELDS.has(f)) return s.kind === 'throughput';
  if (s.kind === 'light') return !THROUGHPUT_FIELDS.has(f);
  if (s.kind !== 'passive' || f === 'carrier') return true;
  if (!THROUGHPUT_FIELDS.has(f)) return false;
  const cur = m.values[f];
  const v = s[f];
  return typeof cur === 'number' && typeof v === 'number' && v > cur;
}

/** Value of field `f` in sample `s` (lower-bound flags default to false next to a new figure, so an old flag never sticks). */
function fieldValue(s: ProbeSample, f: MetricField): number | boolean | undefined {
  if (f === 'downloadLowerBound') return s.downloadMbps === undefined ? undefined : (s.downloadLowerBound ?? false);
  if (f === 'uploadLowerBound') return s.uploadMbps === undefined ? undefined : (s.uploadLowerBound ?? false);
  // A quorum of answers in the same round proves the carrier is up; a "lost" flag next to it is a cached fact.
  if (f === 'carrier' && s.carrier === false && s.reachable === true) return true;
  return s[f];
}

/** Merges one sample: every accepted field it carries replaces the last known value; absent fields keep theirs. */
export function mergeSample(m: MergedMetrics, s: ProbeSample, only?: ReadonlySet<MetricField>): MergedMetrics {
  const values = { ...m.values };
  const atMs = { ...m.atMs };
  let merged = false;
  for (const f of METRIC_FIELDS) {
    if (only && !only.has(f)) continue;
    if (!accepted(m, s, f)) continue;
    const v = fieldValue(s, f);
    if (v === undefined || (typeof v === 'number' && !Number.isFinite(v))) continue;
    // An older sample arriving late must not overwrite a newer value.
    if ((atMs[f] ?? -Infinity) > s.atMs) continue;
    values[f] = v;
    atMs[f] = s.atMs;
    merged = true;
  }
  // Quorum: when the probe did not say, a majority of answering targets counts as reachable.
  const quorumAllowed = !only || only.has('reachable');
  if (
    quorumAllowed &&
    s.reachable === undefined &&
    s.targetsUp !== undefined &&
    s.targetsTotal !== undefined &&
    s.targetsTotal > 0 &&
    (atMs.reachable ?? -Infinity) <= s.atMs
  ) {
    values.reachable = s.targetsUp * 2 > s.targetsTotal;
    atMs.reachable = s.atMs;
  }
  // A sample that measured nothing (e.g. only bytes counted) is not a measurement.
  return { values, atMs, lastMs: merged ? Math.max(m.lastMs ?? -Infinity, s.atMs) : m.lastMs };
}

/** Fields that are judged together (a loss figure with its window size; reachability with its target counts). */
const FIELD_GROUPS: readonly (readonly MetricField[])[] = [
  ['lossPercent', 'lossSamples'],
  ['reachable', 'targetsUp', 'targetsTotal'],
  ['downloadMbps', 'downloadLowerBound'],
  ['uploadMbps', 'uploadLowerBound'],
  ...METRIC_FIELDS.filter(
    (f) =>
      ![
        'lossPercent',
        'lossSamples',
        'reachable',
        'targetsUp',
        'targetsTotal',
        'downloadMbps',
        'downloadLowerBound',
        'uploadMbps',
        'uploadLowerBound',
      ].includes(f),
  ).map((f) => [f]),
];

/** The groups of a lower-bound figure: it can prove "above a threshold", never "below". */
function lowerBoundGroups(s: ProbeSample): (readonly MetricField[])[] {
  return FIELD_GROUPS.filter((g) => (s.downloadLowerBound === true && g.includes('downloadMbps')) || (s.uploadLowerBound === true && g.includes('uploadMbps')));
}

/**
 * mergeSample for samples the agent cannot fully vouch for. A void sample (starved, warm-up, clock step...) is taken
 * whole only when the verdict with it is no worse than without it; otherwise only its carrier (a kernel fact, not a
 * timing) is. A lower-bound figure is taken only when it does not worsen the verdict. `current`/`held` are the uplink's
 * published state.
 */
export function mergeTrusted(
  m: MergedMetrics,
  s: ProbeSample,
  current: LinkHealth,
  held: readonly MetricField[],
  nowMs: number,
  policy: LinkHealthConfig,
): MergedMetrics {
  const rank = (x: MergedMetrics): number => LEVEL_RANK[computeVerdict(x, current, nowMs, policy, held).health];
  if (s.void) {
    const carrierOnly = mergeSample(m, s, new Set<MetricField>(['carrier']));
    const whole = mergeSample(carrierOnly, s);
    return rank(whole) <= rank(carrierOnly) ? whole : carrierOnly;
  }
  const guarded = lowerBoundGroups(s);
  if (guarded.length === 0) return mergeSample(m, s);
  const guardedSet = new Set(guarded.flat());
  let out = mergeSample(m, s, new Set(METRIC_FIELDS.filter((f) => !guardedSet.has(f))));
  for (const g of guarded) {
    const candidate = mergeSample(out, s, new Set(g));
    if (rank(candidate) <= rank(out) && (goodNews(out, s, g, policy) || heldBy(g, held))) out = candidate;
  }
  return out;
}

/**
 * Whether a lower bound says something good: it proves the link at or above the field's degraded exit value, or above
 * the figure it would replace. A bound in the degraded band next to a verdict already degraded (by loss, say) does not
 * worsen it, but stored it became a figure that held the uplink degraded after the loss cleared; and lower bounds are
 * floors now (delivered over the whole test), often in that band.
 */
/**
 * The group's figure holds the uplink in its level: a re-measurement of it is taken even when only "at least" (on a
 * slow link nearly every test ends on a cap) and lower, as the rank rule allows; rejected, the held figure expired and
 * the uplink flapped healthy a minute later without a measurement saying so.
 */
function heldBy(g: readonly MetricField[], held: readonly MetricField[]): boolean {
  return g.some((f) => (f === 'downloadMbps' || f === 'uploadMbps') && held.includes(f));
}

function goodNews(m: MergedMetrics, s: ProbeSample, g: readonly MetricField[], policy: LinkHealthConfig): boolean {
  const f = g.includes('downloadMbps') ? 'downloadMbps' : 'uploadMbps';
  const v = s[f];
  if (typeof v !== 'number') return false;
  const cur = m.values[f];
  return v >= policy.thresholds[f].degraded.exit || (typeof cur === 'number' && v > cur);
}
