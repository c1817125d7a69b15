/** Throughput results for unit tests: a settled reading with chosen fields replaced. Pure. */
import type { ThroughputResult } from '../../probes/throughput.ts';
import type { TestDeps } from '../../probes/uplink-throughput.ts';

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

/** measure()'s deps for unit tests: no disturbance watch, no CPU, a 10 MB allowance; `run` and the rest as given. */
export function fakeTestDeps(run: TestDeps['run'], extra: Partial<TestDeps> = {}): TestDeps {
  return { watch: undefined, cpuMs: () => 0, monoMs: () => 0, allowance: () => 10_000_000, run, ...extra };
}
