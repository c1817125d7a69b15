/** Unit tests of the throughput estimator on recorded-style byte series with injected time. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { binBytes, bytesAt, estimate, nextTransferSize, toMbps, warmupBins, type ByteSample } from '../../../probes/estimator.ts';

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
  const s: ByteSample[] = [{ tMs: 0, bytes: 0 }, { tMs: 100, bytes: 1000 }];
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
  const e = estimate([{ tMs: 0, bytes: 0 }, { tMs: 150, bytes: 187_500 }]);
  assert.equal(e?.mbps, 10);
  assert.equal(e?.stable, false);
  assert.equal(estimate([{ tMs: 0, bytes: 0 }]), undefined);
});

test('transfer sizes double until a transfer lasts long enough, capped', () => {
  assert.equal(nextTransferSize(64_000, 50, 400, 8_000_000), 128_000);
  assert.equal(nextTransferSize(1_024_000, 450, 400, 8_000_000), 1_024_000);
  assert.equal(nextTransferSize(6_000_000, 100, 400, 8_000_000), 8_000_000);
});

/** Replays a recorded series through the online stop rule (checked every 100 ms, as the probe does). */
function replay(series: ByteSample[], tolerance: number): { stopMs: number; mbps: number } {
  for (let t = 100; t <= (series.at(-1) as ByteSample).tMs; t += 100) {
    const upto = series.filter((s) => s.tMs <= t);
    const e = estimate(upto, { binMs: 100, minMeasureMs: 1000, stableTolerance: tolerance });
    if (e?.stable) return { stopMs: t, mbps: e.mbps };
  }
  return { stopMs: Infinity, mbps: NaN };
}

for (const dir of ['down', 'up']) {
  test(`recorded lab series (${dir}, 10 Mbit/s): early stop within 5 % of iperf3 in ≤ 3 s`, async () => {
    const { readFileSync } = await import('node:fs');
    const fx = JSON.parse(readFileSync(new URL(`./fixtures/lab-10mbit-${dir}.json`, import.meta.url), 'utf8')) as { iperf3Mbps: number; series: [number, number][] };
    const series = fx.series.map(([tMs, bytes]) => ({ tMs, bytes }));
    const full = estimate(series) as { mbps: number };
    assert.ok(Math.abs(full.mbps / fx.iperf3Mbps - 1) < 0.03, `full-series estimate ${full.mbps} vs iperf3 ${fx.iperf3Mbps}`);
    const r = replay(series, 0.05);
    assert.ok(r.stopMs <= 3000, `stopped at ${r.stopMs} ms`);
    assert.ok(Math.abs(r.mbps / fx.iperf3Mbps - 1) <= 0.05, `early estimate ${r.mbps} vs iperf3 ${fx.iperf3Mbps}`);
  });
}
