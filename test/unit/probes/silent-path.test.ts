/** Which tests count as a silent bulk path (stalled, nothing moved, a burst then silence), and what the confirming test says (pure). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pathFigure, SILENT_MIN_RTTS, silentFloor } from '../../../probes/silent-path.ts';
import { throughputResult } from '../../support/throughput-results.ts';

/** 25 kB delivered in 2 s: 0.1 Mbit/s. */
const QUIET = { deliveredBytes: 25_000, durationMs: 2_000 };
const FLOOR = 0.1;

test('a test the agent could take no figure from gives its floor: stalled, nothing moved, or a cap before it settled', () => {
  assert.equal(silentFloor({ result: throughputResult(9.6, { ...QUIET, stalled: true, lowerBound: true }), suspect: 'stalled' }, undefined), FLOOR);
  assert.equal(silentFloor({ result: throughputResult(undefined, { ...QUIET, stopReason: 'time' }), suspect: null }, undefined), FLOOR);
  assert.equal(silentFloor({ result: throughputResult(9.6, { ...QUIET, lowerBound: true, stopReason: 'time' }), suspect: null }, undefined), FLOOR);
});

test('no floor for a vouched figure, an error, the agent’s own disturbance, unknown delivery, or a test too short for the RTT', () => {
  assert.equal(silentFloor({ result: throughputResult(9.6, QUIET), suspect: null }, undefined), null, 'vouched');
  assert.equal(silentFloor({ result: throughputResult(undefined, { ...QUIET, stopReason: 'error', errors: ['reset'] }), suspect: null }, undefined), null);
  for (const suspect of ['starved', 'cpu_bound', 'warmup'] as const)
    assert.equal(silentFloor({ result: throughputResult(undefined, QUIET), suspect }, undefined), null, suspect);
  assert.equal(silentFloor({ result: throughputResult(undefined, { durationMs: 2_000 }), suspect: null }, undefined), null, 'delivery unknown');
  const rtt = 600; // GEO satellite: a 2-s test is under 10 round trips
  assert.ok(QUIET.durationMs < SILENT_MIN_RTTS * rtt);
  assert.equal(silentFloor({ result: throughputResult(undefined, QUIET), suspect: null }, rtt), null);
  assert.equal(silentFloor({ result: throughputResult(undefined, QUIET), suspect: null }, 150), FLOOR);
});

test('the confirming test: its figure when vouched, else its floor, null when it cannot be vouched for', () => {
  assert.equal(pathFigure({ result: throughputResult(40, QUIET), suspect: null }, undefined), 40);
  assert.equal(pathFigure({ result: throughputResult(40, { ...QUIET, lowerBound: true, stopReason: 'time' }), suspect: null }, undefined), FLOOR);
  assert.equal(pathFigure({ result: throughputResult(40, QUIET), suspect: 'cpu_bound' }, undefined), null);
});
