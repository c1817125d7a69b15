/** Unit tests of the light-probe estimators: percentiles, median, jitter, loss, quorum, window summary. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jitter, lossPercent, mean, median, percentile, quorumMet, quorumNeeded, robustP95, summariseWindow, JITTER_MIN_DIFFS } from '../../../probes/stats.ts';

test('percentile interpolates linearly and handles edges', () => {
  const v = [10, 20, 30, 40, 50];
  assert.equal(percentile(v, 0), 10);
  assert.equal(percentile(v, 100), 50);
  assert.equal(percentile(v, 50), 30);
  assert.equal(percentile(v, 25), 20);
  assert.equal(percentile([1, 2], 95), 1.95);
  assert.equal(percentile([], 50), undefined);
  assert.equal(percentile([7], 95), 7);
});

test('median does not depend on input order and averages the middle pair', () => {
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(mean([1, 2, 3, 6]), 3);
  assert.equal(mean([]), undefined);
});

test('jitter is the mean absolute difference of consecutive RTTs', () => {
  // recorded series from a ping run on LTE: 41.2 45.9 39.8 52.3 40.1
  const rtts = [41.2, 45.9, 39.8, 52.3, 40.1];
  const expected = (4.7 + 6.1 + 12.5 + 12.2) / 4;
  assert.ok(Math.abs((jitter(rtts) as number) - expected) < 1e-9);
  assert.equal(jitter([10]), undefined);
  assert.equal(jitter([10, 10, 10]), 0);
});

test('loss is lost over sent in percent; nothing sent is unknown, not zero', () => {
  assert.equal(lossPercent(20, 19), 5);
  assert.equal(lossPercent(20, 0), 100);
  assert.equal(lossPercent(0, 0), undefined);
  assert.equal(lossPercent(10, 12), 0);
});

test('quorum rules: one dead target among three keeps majority, two do not', () => {
  assert.equal(quorumNeeded(3, 'majority'), 2);
  assert.equal(quorumNeeded(2, 'majority'), 2);
  assert.equal(quorumNeeded(2, 'half'), 1);
  assert.equal(quorumNeeded(4, 'half'), 2);
  assert.equal(quorumNeeded(5, 'any'), 1);
  assert.equal(quorumNeeded(5, 'all'), 5);
  assert.equal(quorumNeeded(2, 7), 2);
  assert.equal(quorumNeeded(0, 'any'), 0);
  assert.equal(quorumMet(2, 3, 'majority'), true);
  assert.equal(quorumMet(1, 3, 'majority'), false);
  assert.equal(quorumMet(0, 0, 'any'), false);
});

test('summariseWindow: median/p95 over answers, jitter per target, loss over attempts', () => {
  const s = summariseWindow([
    { target: 'a', rttMs: 10 },
    { target: 'b', rttMs: 30 },
    { target: 'a', rttMs: 14 },
    { target: 'b', rttMs: null },
    { target: 'b', rttMs: 36 },
  ]);
  assert.equal(s.rttMs, 22);
  assert.equal(s.lossPercent, 20);
  assert.equal(s.jitterMs, undefined, 'two consecutive differences: too few for a jitter figure');
  // p95 needs two samples at or above it: the single 36 ms answer cannot set it alone
  assert.equal(s.rttP95Ms, 30);
  assert.deepEqual(summariseWindow([]), {});
  const allLost = summariseWindow([{ target: 'a', rttMs: null }]);
  assert.equal(allLost.lossPercent, 100);
  assert.equal(allLost.rttMs, undefined);
});

test('jitter is reported from JITTER_MIN_DIFFS consecutive differences on: one delayed first packet cannot set it', () => {
  const round = (a: number, b: number) => [
    { target: 'a', rttMs: a },
    { target: 'a', rttMs: b },
  ];
  // the first round after start-up: one packet 116 ms late (a 58-ms jitter from one difference)
  const first = [...round(120, 4)];
  assert.equal(summariseWindow(first).jitterMs, undefined);
  const entries = [...first];
  while (entries.length - 1 < JITTER_MIN_DIFFS) entries.push(...round(4, 6));
  const s = summariseWindow(entries);
  assert.ok(s.jitterMs !== undefined, `${entries.length - 1} differences give a figure`);
  assert.ok(s.jitterMs < 30, `the link's jitter, the start-up packet averaged in: ${s.jitterMs} ms`);
});

test('robustP95: one delayed packet in a window of 20 does not set the p95; two do; larger windows need 5 %', () => {
  const calm = Array.from({ length: 19 }, (_, i) => 20 + (i % 3));
  assert.equal(robustP95([...calm, 900]), 22);
  assert.equal(robustP95([...calm.slice(1), 900, 800]), 800);
  const big = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(robustP95(big), 96); // 5 values (96..100) at or above it
  assert.equal(robustP95([7]), 7);
  assert.equal(robustP95([]), undefined);
});

test('summariseWindow: an untimed answer (agent starved while waiting) is neither lost nor an RTT', () => {
  const s = summariseWindow([
    { target: 'a', rttMs: 10 },
    { target: 'a', rttMs: null, untimed: true },
    { target: 'a', rttMs: null },
    { target: 'a', rttMs: 12 },
  ]);
  assert.equal(s.lossPercent, 25);
  assert.equal(s.lossSamples, 4);
  assert.equal(s.rttMs, 11);
});
