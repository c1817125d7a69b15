/** Long round trips: a capped low reading counts only from a test that filled the path; slow start is never "stable" or a stop (pure). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultLinkHealthConfig } from '../../../agent/config/link.ts';
import { estimate, type ByteSample } from '../../../probes/estimator.ts';
import { AllowanceRule, isRamping, RAMP_FACTOR } from '../../../probes/probe-bytes.ts';
import { AGREE_MIN_RTTS, allowanceHeld, filledPath, lowCanCount, pathFigureOf } from '../../../probes/saturation.ts';
import { streamGaps } from '../../../probes/stalls.ts';
import type { ThroughputResult } from '../../../probes/throughput.ts';
import { throughputSample } from '../../../probes/judged-figure.ts';
import { measure } from '../../../probes/uplink-throughput.ts';
import { fakeTestDeps, throughputResult } from '../../support/throughput-results.ts';

const policy = defaultLinkHealthConfig();
/** What the delay-line lab read on a 13.8 Mbit/s link at 300 ms RTT: capped at 3.3 s, RTT unchanged under the load. */
const LONG_RTT = { idleMs: 300, loadedMs: 302, loadedSamples: 15, loadedLost: 0 };
const capped = (mbps: number, extra: Partial<ThroughputResult> = {}): ThroughputResult =>
  throughputResult(mbps, { lowerBound: true, stable: false, stopReason: 'allowance', durationMs: 3_300, ...extra });

test('filled path: the load raised the RTT (a queue) or lost most pings; a window-limited test leaves the RTT where it was', () => {
  assert.equal(filledPath({ latency: LONG_RTT }), false);
  assert.equal(filledPath({ latency: { ...LONG_RTT, loadedMs: 340 } }), true, '+40 ms, over 10 % of 300');
  assert.equal(filledPath({ latency: { ...LONG_RTT, loadedMs: 320 } }), false, '+20 ms is under 10 % of a 300 ms path');
  assert.equal(filledPath({ latency: { idleMs: 20, loadedMs: 31, loadedSamples: 5, loadedLost: 0 } }), true, '+11 ms on a 20 ms path');
  assert.equal(filledPath({ latency: { idleMs: 20, loadedSamples: 2, loadedLost: 8 } }), true, '8 of 10 pings lost under the load');
  assert.equal(filledPath({}), false, 'no pings: no evidence');
  // pings a firewall drops are lost with or without the load (a review: such an uplink was vouched slow)
  assert.equal(filledPath({ latency: { loadedSamples: 0, loadedLost: 15 } }), false, 'the idle pings were not answered either');
  assert.equal(filledPath({ latency: { idleMs: 20, loadedSamples: 0, loadedLost: 1 } }), false, 'one ping is no evidence');
});

test('a capped low reading counts when the test lasted enough round trips, or filled the path; never while ramping', () => {
  assert.equal(lowCanCount(capped(4.5, { latency: LONG_RTT }), undefined), false, '11 round trips, no queue');
  assert.equal(lowCanCount(capped(4.5, { latency: { ...LONG_RTT, loadedMs: 360 } }), undefined), true, 'a queue built');
  assert.equal(lowCanCount(capped(2.9, { durationMs: 2_000 }), 50), true, `40 round trips of 50 ms (≥ ${AGREE_MIN_RTTS})`);
  assert.equal(lowCanCount(capped(2.9, { durationMs: 2_000 }), 150), false, '13 round trips of 150 ms, no pings');
  assert.equal(lowCanCount(capped(2.9, { durationMs: 2_000, latency: { ...LONG_RTT, idleMs: 50, loadedMs: 52 } }), 150), true, 'the test’s own idle RTT wins');
  assert.equal(lowCanCount(capped(2.9, { durationMs: 9_000, ramping: true, latency: { ...LONG_RTT, loadedMs: 400 } }), 50), false, 'still ramping');
});

test('measure: two short long-RTT readings below 5 Mbit/s are not a figure of a slow link; with a queue they are', async () => {
  const twice = async (r: () => ThroughputResult) => {
    const judged = await measure(
      fakeTestDeps(async () => r(), { rttMs: () => 300 }),
      ['down'],
      4_000_000,
      undefined,
      policy,
    );
    return { j: judged.get('down'), s: throughputSample('wan', 0, judged) };
  };
  const unfilled = await twice(() => capped(4.5, { latency: LONG_RTT }));
  assert.equal(unfilled.s.downloadLowerBound, true, 'only "at least": the lab’s 13.8 Mbit/s link read 4.5 twice at 300 ms');
  assert.equal(unfilled.j?.suspect, 'unconfirmed');
  assert.match(unfilled.j?.detail ?? '', /not both filled the path/);
  const queued = await twice(() => capped(4.5, { latency: { ...LONG_RTT, loadedMs: 380 } }));
  assert.equal(queued.s.downloadLowerBound, undefined, 'a slow link that queues: vouched');
  assert.equal(queued.s.downloadMbps, 4.5);
});

test('ramping: a window whose last part runs RAMP_FACTOR above the whole; the allowance then judges by the recent rate', () => {
  assert.equal(isRamping(2, 2 * RAMP_FACTOR + 0.01), true);
  assert.equal(isRamping(2, 2.2), false, 'a settled tail within 10 %');
  const r = new AllowanceRule(1_000);
  r.observe(2, 0.05, 1_200, 6);
  assert.equal(r.rateMbps, 6, 'slow start: the link carries at least the recent rate');
  r.observe(6, 0.05, 1_400, 6.2);
  assert.ok(Math.abs(r.rateMbps - 5.4) < 1e-9, 'settled: the low end of the window’s estimate, as before');
});

test('two readings bridged by interpolation are never "stable" (the 600 ms lab: 0.04 Mbit/s vouched from 5.6 kB of headers)', () => {
  const opts = { binMs: 100, minMeasureMs: 1_000, stableTolerance: 0.05 };
  const sparse: ByteSample[] = [
    { tMs: 0, bytes: 0 },
    { tMs: 1_229, bytes: 5_572 },
  ];
  const e = estimate(sparse, opts);
  assert.ok(e && e.mbps < 0.05);
  assert.equal(e.stable, false);
  const dense: ByteSample[] = Array.from({ length: 121 }, (_, i) => ({ tMs: i * 10, bytes: i * 1_250 }));
  assert.equal(estimate(dense, opts)?.stable, true, 'a reading every 10 ms at a steady 1 Mbit/s still is');
});

test('on a long path a full window’s wait for its ACKs is not a stall; an RTO (a round trip plus 200 ms) still is', () => {
  // bursts every 400 ms (one round trip), 100 ms of arrivals each, then silence until the ACKs return
  const progress: number[] = [];
  for (let t = 0; t < 3_000; t += 400) for (let k = 0; k < 100; k += 5) progress.push(t + k);
  const s = { progress, busy: [[0, 3_000]] as [number, number][] };
  assert.ok(streamGaps(s, 0, 3_000).length > 0, 'judged against 250 ms alone, every wait reads as a stall');
  assert.deepEqual(streamGaps(s, 0, 3_000, 400), [], 'judged against the round trip plus the minimum RTO: none');
  const withRto = { progress: [...progress.filter((t) => t < 1_000), ...progress.filter((t) => t > 1_700)], busy: s.busy };
  assert.equal(streamGaps(withRto, 0, 3_000, 400).length, 1, 'a 1.1-s silence is');
});

test('the allowance is held before 10 round trips (unless a queue shows), and for a low reading until it can count, where that fits the cap', () => {
  const g = { rttMs: 100, timeCapMs: 3_000, rateMbps: 8, judgeAtMbps: 5, idleMs: 100, loadedMs: 102 };
  assert.equal(allowanceHeld({ ...g, tMs: 900 }), true, '9 round trips');
  assert.equal(allowanceHeld({ ...g, tMs: 900, loadedMs: 140 }), false, 'a queue: the path is full');
  assert.equal(allowanceHeld({ ...g, tMs: 1_100 }), false, 'a fast reading after 10 round trips');
  assert.equal(allowanceHeld({ ...g, tMs: 1_500, rateMbps: 2.6 }), true, 'a low reading at 15 round trips: not yet 25');
  assert.equal(allowanceHeld({ ...g, tMs: 2_600, rateMbps: 2.6 }), false, '25 round trips');
  assert.equal(allowanceHeld({ ...g, rttMs: 300, tMs: 3_500, rateMbps: 2.6, timeCapMs: 4_500 }), false, '25 × 300 ms does not fit a 4.5 s cap');
  assert.equal(allowanceHeld({ ...g, rttMs: 0, tMs: 200, rateMbps: 2.6 }), false, 'no round trip known: as before');
});

test('a finished figure: under 10 round trips only "at least"; ramping unless it had gone quiet', () => {
  const judged = { mbps: 0.9, lowerBound: false, stalled: false };
  const e = { mbps: 0.9, recentMbps: 2 };
  const short = pathFigureOf(judged, e, { durationMs: 2_000, rttMs: 300, lastMoveMs: 1_990 });
  assert.deepEqual([short.figure.lowerBound, short.ramping], [true, true], 'stable-looking, 7 round trips');
  const quiet = pathFigureOf(judged, e, { durationMs: 2_000, rttMs: 300, lastMoveMs: 1_000 });
  assert.deepEqual([quiet.figure.lowerBound, quiet.ramping], [true, false], 'a flow killed in slow start went quiet');
  const long = pathFigureOf(judged, { mbps: 0.9, recentMbps: 0.95 }, { durationMs: 2_000, rttMs: 50, lastMoveMs: 1_990 });
  assert.deepEqual([long.figure.lowerBound, long.ramping], [false, false], '40 round trips, settled: as judged');
});
