/** Records a throughput byte series for estimator fixtures and investigations; run inside the lab namespace by bench:probes --record. */
import { systemClock } from '../../agent/base/clock.ts';
import { runThroughput, type Direction } from '../../probes/throughput.ts';
import type { Preset } from '../../probes/presets.ts';

// mode "series": 5 s, no early stop (fixtures); mode "probe": the probe's defaults (8 MB, 3 s, stop rule), result + series
const [url, dir, token, mode = 'series', preset = 'linkward'] = process.argv.slice(2);
const probe = mode === 'probe';
const r = await runThroughput({
  url: url as string,
  preset: preset as Preset,
  direction: dir as Direction,
  streams: 4,
  clock: systemClock,
  keepSeries: true,
  ...(token ? { token } : {}),
  ...(probe
    ? { maxBytes: 8_000_000, maxDurationMs: 3_000, minMeasureMs: 1_000, stableTolerance: 0.05 }
    : { maxBytes: 40_000_000, maxDurationMs: 5_000, minMeasureMs: 1e9, stableTolerance: 0.05 }),
});
const pairs = (xs: readonly { tMs: number; bytes: number }[] = []): number[][] => xs.map((s) => [Math.round(s.tMs * 100) / 100, s.bytes]);
const series = pairs(r.series);
// downloads timed by the kernel also carry the bytes the client read, at the same times
const read = r.readSeries ? { readSeries: pairs(r.readSeries) } : {};
process.stdout.write(JSON.stringify(probe ? { result: { ...r, series: undefined, readSeries: undefined }, series, ...read } : series) + '\n');
