/** Records a 5 s throughput byte series (no early stop) for estimator fixtures; run inside the lab namespace by bench:probes --record. */
import { systemClock } from '../../agent/clock.ts';
import { runThroughput, type Direction } from '../../probes/throughput.ts';

const [url, dir, token] = process.argv.slice(2);
const r = await runThroughput({
  url: url as string, preset: 'linkward', direction: dir as Direction, streams: 4, maxBytes: 40_000_000, maxDurationMs: 5_000, minMeasureMs: 1e9, stableTolerance: 0.05, clock: systemClock, keepSeries: true, ...(token ? { token } : {}),
});
process.stdout.write(JSON.stringify((r.series ?? []).map((s) => [Math.round(s.tMs * 100) / 100, s.bytes])) + '\n');
