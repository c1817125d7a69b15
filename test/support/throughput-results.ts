/** Throughput results for unit tests: a settled reading with chosen fields replaced. Pure. */
import type { ThroughputResult } from '../../probes/throughput.ts';

/** A finished, settled test reading `mbps` (absent: no figure), with `extra` fields replaced. */
export function throughputResult(mbps: number | undefined, extra: Partial<ThroughputResult> = {}): ThroughputResult {
  return {
    direction: 'down',
    ...(mbps !== undefined ? { mbps } : {}),
    payloadBytes: 1,
    bytesUsed: 1_000_000,
    durationMs: 1_000,
    warmupMs: 0,
    measuredMs: 800,
    stable: true,
    lowerBound: false,
    stalled: false,
    stopReason: 'stable',
    requests: 4,
    errors: [],
    ...extra,
  };
}
