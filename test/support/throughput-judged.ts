/** A speed test against a real probe server, judged as the agent judges its own (integration tests, benches). */
import { systemClock } from '../../agent/base/clock.ts';
import type { DisturbanceWatch } from '../../probes/disturbance.ts';
import { processCpuMs } from '../../probes/monitor-deps.ts';
import { threadCpu } from '../../probes/run-queue.ts';
import { runThroughput, type Direction, type ThroughputProgress } from '../../probes/throughput.ts';
import type { Preset } from '../../probes/presets.ts';
import { runJudged, type JudgedDirection } from '../../probes/uplink-throughput.ts';

/**
 * One direction against a probe server, 4 streams, 6 MB, run inside the agent's own judgement (disturbance watch,
 * process CPU, the loop thread's run-queue time; no warm-up rule): what the daemon would vouch for.
 */
export function judgedThroughput(
  url: string,
  direction: Direction,
  watch: DisturbanceWatch,
  o: { preset?: Preset; onProgress?: (p: ThroughputProgress) => void } = {},
): Promise<JudgedDirection> {
  return runJudged(
    {
      watch,
      warmup: false,
      allowance: () => 0,
      cpuMs: processCpuMs,
      loopCpu: threadCpu,
      monoMs: () => systemClock.monoMs(),
      run: (dir, maxBytes) =>
        runThroughput({
          url,
          preset: o.preset ?? 'linkward',
          direction: dir,
          streams: 4,
          maxBytes,
          // the byte cap ends it on loopback (0.2-1.1 s, also on one core shared with 4 burners); the time cap is only
          // a guard, long enough that a CI machine busy with the parallel test phase still completes a transfer
          maxDurationMs: 10_000,
          minMeasureMs: 300,
          stableTolerance: 0.2,
          clock: systemClock,
          ...(o.onProgress ? { onProgress: o.onProgress } : {}),
        }),
    },
    direction,
    6_000_000,
  );
}
