/** A lower bound is one: a figure the agent cannot vouch for never reads above what its test delivered (pure). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultLinkHealthConfig } from '../../../agent/config/link.ts';
import { floorMbps, honestBound } from '../../../probes/throughput-result.ts';
import { figureOf, throughputSample } from '../../../probes/judged-figure.ts';
import { outcomeOf } from '../../../probes/throughput-outcome.ts';
import { formatOutcome } from '../../../agent/cli/speedtest.ts';
import { throughputResult } from '../../support/throughput-results.ts';

/** 64 KiB delivered in 10 s: 0.052 Mbit/s. */
const SILENT = { deliveredBytes: 65_536, durationMs: 10_000 };
const FLOOR = (65_536 * 8) / 10_000_000;

test('the floor is delivered bytes over the whole test; unknown delivery bounds nothing', () => {
  assert.equal(floorMbps(SILENT), FLOOR);
  assert.equal(floorMbps({ durationMs: 10_000 }), undefined);
  assert.equal(honestBound(319, SILENT), FLOOR);
  assert.equal(honestBound(0.01, SILENT), 0.01, 'a bound already below the floor stays');
  assert.equal(honestBound(319, { durationMs: 10_000 }), 319);
});

test('a capped, stalled or set-aside figure is held to its floor; a vouched one and two agreeing low readings are not', () => {
  const capped = throughputResult(319, { ...SILENT, lowerBound: true, stable: false, stopReason: 'time' });
  assert.deepEqual(figureOf({ result: capped, suspect: null }), { mbps: FLOOR, lowerBound: true });
  const vouched = throughputResult(50, { deliveredBytes: 1_000, durationMs: 3_000 }); // settled: the window is the figure
  assert.deepEqual(figureOf({ result: vouched, suspect: null }), { mbps: 50, lowerBound: false });
  assert.deepEqual(figureOf({ result: vouched, suspect: 'stalled' }), { mbps: (1_000 * 8) / 3_000_000, lowerBound: true });
  const low = throughputResult(1.9, { deliveredBytes: 500_000, durationMs: 2_500, lowerBound: true, stopReason: 'allowance' });
  assert.deepEqual(figureOf({ result: low, suspect: null, confirmation: low, agreedLow: true }), { mbps: 1.9, lowerBound: false });
});

test('a figure from the confirming test is held to that test’s floor', () => {
  const first = throughputResult(2, { deliveredBytes: 600_000, durationMs: 2_500, lowerBound: true, stopReason: 'allowance' });
  const second = throughputResult(40, { deliveredBytes: 1_250_000, durationMs: 2_500, lowerBound: true, stopReason: 'time' });
  assert.deepEqual(figureOf({ result: first, suspect: null, confirmation: second }), { mbps: 4, lowerBound: true });
});

test('the sample carries the held figures', () => {
  const up = throughputResult(319, { ...SILENT, direction: 'up', lowerBound: true, stopReason: 'time' });
  const s = throughputSample('wan', 0, new Map([['up', { result: up, suspect: null }]]));
  assert.equal(s.uploadMbps, FLOOR);
  assert.equal(s.uploadLowerBound, true);
});

test('the better of two readings is never below either one’s own bound, nor below a vouched first reading', () => {
  const first = throughputResult(2, { deliveredBytes: 593_750, durationMs: 2_500, lowerBound: true, stable: false, stopReason: 'allowance' }); // floor 1.9
  const second = throughputResult(40, { deliveredBytes: 312_500, durationMs: 5_000, lowerBound: true, stable: false, stopReason: 'time' }); // floor 0.5
  assert.deepEqual(figureOf({ result: first, suspect: null, confirmation: second }), { mbps: 1.9, lowerBound: true });
  const vouched = throughputResult(3, { deliveredBytes: 1_000_000, durationMs: 3_000 });
  assert.deepEqual(figureOf({ result: vouched, suspect: null, confirmation: second }), { mbps: 3, lowerBound: true });
});

test('the outcome `linkward test` prints carries the held figure, not the socket-buffer one', () => {
  const up = throughputResult(319, { ...SILENT, direction: 'up', lowerBound: true, stable: false, stopReason: 'time' });
  const r = outcomeOf('wan', 0, new Map([['up', { result: up, suspect: null }]]), defaultLinkHealthConfig());
  assert.equal(r.out.upload?.mbps, FLOOR);
  assert.equal(r.out.upload?.lowerBound, true);
  assert.doesNotMatch(formatOutcome(JSON.parse(JSON.stringify(r.out))), /319/);
});
