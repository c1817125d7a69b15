/** Unit tests of the throughput estimator on recorded-style byte series with injected time. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import {
  binBytes,
  bytesAt,
  DEFAULT_ESTIMATOR,
  deliveredSeries,
  estimate,
  nextTransferSize,
  slopeFit,
  toMbps,
  warmupBins,
  type ByteSample,
} from '../../../probes/estimator.ts';

/** Builds cumulative samples every `stepMs` from a per-step byte function (deterministic "recording"). */
function series(durationMs: number, stepMs: number, bytesInStep: (tMs: number, i: number) => number): ByteSample[] {
  const out: ByteSample[] = [{ tMs: 0, bytes: 0 }];
  let total = 0;
  for (let i = 1; i * stepMs <= durationMs; i++) {
    total += bytesInStep(i * stepMs, i);
    out.push({ tMs: i * stepMs, bytes: total });
  }
  return out;
}

/** 10 Mbit/s = 1250 bytes per ms. */
const RATE_10M = 1250;

test('toMbps and bytesAt interpolation', () => {
  assert.equal(toMbps(1_250_000, 1000), 10);
  const s: ByteSample[] = [
    { tMs: 0, bytes: 0 },
    { tMs: 100, bytes: 1000 },
  ];
  assert.equal(bytesAt(s, 50), 500);
  assert.equal(bytesAt(s, 500), 1000);
  assert.equal(bytesAt(s, -1), 0);
  assert.deepEqual(binBytes(s, 50), [500, 500]);
});

test('slow start is excluded: estimate equals the steady rate, not the average', () => {
  // exponential ramp over the first 400 ms (doubling every 50 ms), then 10 Mbit/s with ±3 % packet noise
  const s = series(2000, 10, (t, i) => (t <= 400 ? RATE_10M * 10 * Math.pow(2, t / 50 - 8) : RATE_10M * 10 * (1 + 0.03 * Math.sin(i * 1.7))));
  const naive = toMbps((s.at(-1) as ByteSample).bytes, 2000);
  const e = estimate(s, { binMs: 100, minMeasureMs: 1000, stableTolerance: 0.03 });
  assert.ok(e);
  assert.ok(naive < 9, `naive average ${naive} includes slow start`);
  assert.ok(Math.abs(e.mbps - 10) / 10 < 0.01, `estimate ${e.mbps}`);
  assert.ok(e.warmupMs >= 300 && e.warmupMs <= 500, `warm-up ${e.warmupMs}`);
  assert.equal(e.stable, true);
});

test('an initial token-bucket burst is excluded too', () => {
  // 60 kB burst in the first 10 ms (shaper bucket), then 2 Mbit/s
  const rate2m = 250;
  const s = series(3000, 10, (t) => (t === 10 ? 60_000 : rate2m * 10));
  const e = estimate(s);
  assert.ok(e);
  assert.ok(Math.abs(e.mbps - 2) / 2 < 0.01, `estimate ${e.mbps}`);
  const w = warmupBins(binBytes(s, 100));
  assert.ok(w >= 1 && w <= 2, `burst bin excluded (warm-up ${w} bins)`);
});

test('a stall at the end of a short capped transfer is not the steady rate that makes its start a burst', () => {
  // recorded: lab upload, tbf 20 Mbit/s (goodput 19.1), 700 kB cap; two streams waited out a retransmission timeout
  // from 200 ms on (the stall detector's interval), so the last bins ran at 120 and 32 kB per 100 ms
  const s: ByteSample[] = (
    [
      [0, 0],
      [40, 103383],
      [80, 173781],
      [120, 259765],
      [160, 348156],
      [200, 466646],
      [240, 552329],
      [280, 581708],
      [320, 592355],
      [360, 603002],
      [400, 619520],
      [421.4, 622065],
    ] as const
  ).map(([tMs, bytes]) => ({ tMs, bytes }));
  const blind = estimate(s);
  assert.ok(blind);
  assert.equal(blind.warmupMs, 200, 'without the stall, the good start is cut as a burst');
  assert.ok(blind.mbps < 6, `and the figure is the stall's ${blind.mbps}`);
  const told = estimate(s, { ...DEFAULT_ESTIMATOR, stalls: [[200, 421.4]] });
  assert.ok(told);
  assert.equal(told.warmupMs, 0, 'judged against the bins outside the stall, the start is steady');
  assert.ok(told.mbps > 9.5 && told.mbps < 19.1, `whole transfer, stall included: ${told.mbps}`);
  // a real burst is still cut when a stall follows it: the reference is the steady part, not the stall
  const burst = series(3000, 10, (t) => (t === 10 ? 60_000 : t >= 2500 ? 0 : 250 * 10));
  const e = estimate(burst, { ...DEFAULT_ESTIMATOR, stalls: [[2500, 3000]] });
  assert.ok(e && e.warmupMs >= 100, `burst excluded (warm-up ${e?.warmupMs} ms)`);
});

test('not stable before minMeasureMs, nor while the rate still drifts', () => {
  const short = series(800, 10, () => RATE_10M * 10);
  assert.equal(estimate(short)?.stable, false);
  // rate falls linearly from 20 to 5 Mbit/s: halves disagree
  const drifting = series(3000, 10, (t) => (RATE_10M * 10 * (20 - (15 * t) / 3000)) / 10);
  const e = estimate(drifting, { binMs: 100, minMeasureMs: 1000, stableTolerance: 0.03 });
  assert.equal(e?.stable, false);
});

test('a ramp that never settles still yields a figure over the last 40 %', () => {
  const s = series(2000, 10, (t) => t * 10);
  const e = estimate(s);
  assert.ok(e && e.mbps > 0);
  assert.ok((e.warmupMs as number) <= 0.6 * 2000 + 1);
});

test('tiny transfers fall back to total bytes over total time', () => {
  const e = estimate([
    { tMs: 0, bytes: 0 },
    { tMs: 150, bytes: 187_500 },
  ]);
  assert.equal(e?.mbps, 10);
  assert.equal(e?.stable, false);
  assert.equal(estimate([{ tMs: 0, bytes: 0 }]), undefined);
});

test('transfer sizes double until a transfer lasts long enough, capped', () => {
  assert.equal(nextTransferSize(64_000, 50, 400, 8_000_000), 128_000);
  assert.equal(nextTransferSize(1_024_000, 450, 400, 8_000_000), 1_024_000);
  assert.equal(nextTransferSize(6_000_000, 100, 400, 8_000_000), 8_000_000);
});

test("upload delivered series: sums completed requests, valid up to the earliest stream's last completion", () => {
  // stream 0: two requests of 100 kB (0→100 ms, 100→200 ms); stream 1: one request of 150 kB (0→150 ms)
  const streams = [
    [
      [
        { tMs: 0, bytes: 0 },
        { tMs: 100, bytes: 100_000 },
      ],
      [
        { tMs: 100, bytes: 0 },
        { tMs: 200, bytes: 100_000 },
      ],
    ],
    [
      [
        { tMs: 0, bytes: 0 },
        { tMs: 150, bytes: 150_000 },
      ],
    ],
  ];
  const d = deliveredSeries(streams, 50);
  assert.deepEqual(
    d.map((x) => x.tMs),
    [0, 50, 100, 150],
  );
  assert.deepEqual(
    d.map((x) => x.bytes),
    [0, 100_000, 200_000, 300_000],
  );
  assert.deepEqual(
    deliveredSeries(
      [
        [
          [
            { tMs: 0, bytes: 0 },
            { tMs: 10, bytes: 5 },
          ],
        ],
        [],
      ],
      5,
    ),
    [],
    'a stream without a completion: no series yet',
  );
});

test('slopeFit: exact line has zero error; noise raises the relative error', () => {
  const line = Array.from({ length: 21 }, (_, i) => ({ tMs: i * 100, bytes: i * 125_000 }));
  const f = slopeFit(line, 0, 2000, 50);
  assert.ok(Math.abs(f.slope - 1250) < 1e-6);
  assert.ok(f.relSe < 1e-9);
  const noisy = line.map((p, i) => ({ tMs: p.tMs, bytes: p.bytes + (i % 2 ? 60_000 : -60_000) }));
  assert.ok(slopeFit(noisy, 0, 2000, 50).relSe > 0.01);
});

interface Fixture {
  note: string;
  iperf3Mbps: number;
  series: [number, number][];
}

/** Replays a recorded series through the online stop rule (checked every 100 ms, as the probe does). */
function replay(series: ByteSample[], tolerance: number): { stopMs: number; mbps: number } {
  const end = (series.at(-1) as ByteSample).tMs;
  for (let t = 100; t <= end; t += 100) {
    const upto = series.filter((s) => s.tMs <= t);
    const e = estimate(upto, { binMs: 100, minMeasureMs: 1000, stableTolerance: tolerance });
    if (e?.stable) return { stopMs: t, mbps: e.mbps };
  }
  return { stopMs: end, mbps: (estimate(series) as { mbps: number }).mbps };
}

const FIXTURES = new URL('./fixtures/', import.meta.url);

test('recorded lab series (2/10/50 Mbit/s × 0/2 % loss, both directions): online stop vs iperf3 -P 4', () => {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));
  assert.ok(files.length >= 12, `fixtures present (${files.length})`);
  const errors: number[] = [];
  for (const f of files) {
    const fx = JSON.parse(readFileSync(new URL(f, FIXTURES), 'utf8')) as Fixture;
    const series = fx.series.map(([tMs, bytes]) => ({ tMs: tMs - (fx.series[0] as [number, number])[0], bytes }));
    const r = replay(series, 0.05);
    const err = Math.abs(r.mbps / fx.iperf3Mbps - 1);
    errors.push(err);
    assert.ok(err <= 0.1, `${f}: ${r.mbps.toFixed(2)} vs iperf3 ${fx.iperf3Mbps.toFixed(2)} (stop at ${r.stopMs} ms)`);
  }
  errors.sort((a, b) => a - b);
  assert.ok((errors[Math.floor(errors.length / 2)] as number) <= 0.05, `median error ${errors[Math.floor(errors.length / 2)]}`);
});

test('a slow ramp that is still rising is never called stable, though it fits a line within the error tolerance', () => {
  // rate rises 6 → 10 Mbit/s over 2.5 s (CPU-starved client, growing window), smooth: the standard-error test alone passes
  const s = series(2500, 10, (t) => (((6 + (4 * t) / 2500) * 1e6) / 8 / 1000) * 10);
  for (let t = 1000; t <= 2500; t += 100) {
    const e = estimate(s.filter((x) => x.tMs <= t));
    assert.ok(e);
    assert.equal(e.stable, false, `stable at ${t} ms on a rising ramp (${e.mbps.toFixed(2)}, recent ${e.recentMbps.toFixed(2)})`);
  }
  const e = estimate(s) as NonNullable<ReturnType<typeof estimate>>;
  assert.ok(2 * e.relSe <= 0.05, `the old rule would have stopped here (2·relSe ${(2 * e.relSe).toFixed(3)})`);
  assert.ok(e.recentMbps > e.mbps * 1.05, `the tail runs faster: ${e.recentMbps} vs ${e.mbps}`);
  // once the ramp has levelled off for long enough, the estimate may be stable again
  const settled = series(4000, 10, (t) => ((Math.min(10, 6 + (4 * t) / 1000) * 1e6) / 8 / 1000) * 10);
  assert.equal(estimate(settled)?.stable, true);
});
