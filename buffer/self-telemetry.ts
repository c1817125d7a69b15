/** The agent's own telemetry as remote-write series: probe samples and link-state transitions, stamped at measurement time. */
import { HEALTH_RANK, type LinkHealth, type LinkSnapshot, type ProbeSample } from '../agent/core/types.ts';
import { encodeWriteRequest, type Series } from './remote-write.ts';

/** Numeric fields of a probe sample exported as gauges (name suffix → field). */
const SAMPLE_FIELDS = [
  ['rtt_milliseconds', 'rttMs'],
  ['rtt_p95_milliseconds', 'rttP95Ms'],
  ['jitter_milliseconds', 'jitterMs'],
  ['loss_percent', 'lossPercent'],
  ['download_mbps', 'downloadMbps'],
  ['upload_mbps', 'uploadMbps'],
  ['targets_up', 'targetsUp'],
  ['bytes_used', 'bytesUsed'],
] as const satisfies readonly (readonly [string, keyof ProbeSample])[];

/** Health as a number in series: 0 healthy, 1 unknown, 2 degraded, 3 down (HEALTH_RANK). */
const healthValue = (h: LinkHealth): number => HEALTH_RANK[h];

/** Series for one probe round; fields not measured are absent, never zero. */
export function sampleSeries(s: ProbeSample, node: string): Series[] {
  const out: Series[] = [];
  for (const [suffix, field] of SAMPLE_FIELDS) {
    const v = s[field];
    if (typeof v === 'number' && Number.isFinite(v))
      out.push({ labels: { __name__: `linkward_probe_${suffix}`, node, uplink: s.uplink, kind: s.kind }, samples: [{ value: v, timestampMs: s.atMs }] });
  }
  if (s.reachable !== undefined)
    out.push({
      labels: { __name__: 'linkward_probe_reachable', node, uplink: s.uplink, kind: s.kind },
      samples: [{ value: s.reachable ? 1 : 0, timestampMs: s.atMs }],
    });
  return out;
}

/** Series for health changes between two snapshots (node and each uplink), stamped when the change happened. */
export function transitionSeries(prev: LinkSnapshot | null, next: LinkSnapshot, node: string): Series[] {
  const out: Series[] = [];
  if (prev === null || prev.node !== next.node)
    out.push({ labels: { __name__: 'linkward_node_health_state', node }, samples: [{ value: healthValue(next.node), timestampMs: next.atMs }] });
  for (const [name, u] of Object.entries(next.uplinks)) {
    const before = prev?.uplinks[name];
    if (before === undefined || before.health !== u.health)
      out.push({
        labels: { __name__: 'linkward_uplink_health_state', node, uplink: name },
        samples: [{ value: healthValue(u.health), timestampMs: u.sinceMs }],
      });
  }
  return out;
}

/** Encodes series as one uncompressed WriteRequest record body (the sealer merges and snappy-compresses). */
export function seriesBody(series: readonly Series[]): Buffer | null {
  return series.length === 0 ? null : encodeWriteRequest(series);
}
