/** Which tests count as a silent bulk path (stalled, nothing moved, a burst then silence), and what the confirming test says (pure). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultLinkHealthConfig } from '../../../agent/config/link.ts';
import { pathFigure, SILENT_MIN_RTTS, silentFloor } from '../../../probes/silent-path.ts';
import type { ThroughputResult } from '../../../probes/throughput.ts';
import { throughputSample } from '../../../probes/judged-figure.ts';
import { measure } from '../../../probes/uplink-throughput.ts';
import { fakeTestDeps, throughputResult } from '../../support/throughput-results.ts';

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

/** A healthy 8.3 Mbit/s link at 159 ms RTT as an emulated test reads it: capped by the line-rate allowance, floor 4.72. */
const HEALTHY_CAPPED = () => throughputResult(5.67, { lowerBound: true, stable: false, stopReason: 'allowance', durationMs: 2_024, deliveredBytes: 1_194_160 });

test('not silent: a stop on the allowance (data was flowing), or a floor over half the estimate (a stall that resumed)', () => {
  assert.equal(silentFloor({ result: HEALTHY_CAPPED(), suspect: null }, 159), null);
  const resumed = throughputResult(8.9, { lowerBound: true, stalled: true, stopReason: 'time', durationMs: 3_000, deliveredBytes: 1_837_500 }); // floor 4.9
  assert.equal(silentFloor({ result: resumed, suspect: 'stalled' }, undefined), null);
  assert.equal(silentFloor({ result: throughputResult(9.6, { ...QUIET, lowerBound: true, stopReason: 'allowance' }), suspect: null }, undefined), null);
});

const policy = defaultLinkHealthConfig();
async function twoServers(first: () => ThroughputResult, confirming: () => ThroughputResult) {
  const asked: string[] = [];
  const judged = await measure(
    fakeTestDeps(async (_dir, _max, c) => (asked.push(c ? 'confirming' : 'own'), c ? confirming() : first()), {
      confirmServer: true,
      rttMs: () => 159,
    }),
    ['down'],
    10_000_000,
    undefined,
    policy,
  );
  return { asked, sample: throughputSample('wan', 0, judged), judged };
}

test('a healthy link whose tests end on the allowance is never vouched low through the silent path', async () => {
  const { sample } = await twoServers(HEALTHY_CAPPED, HEALTHY_CAPPED);
  assert.equal(sample.downloadLowerBound, true, `${sample.downloadMbps} Mbit/s`);
  const nothing = () => throughputResult(undefined, { durationMs: 3_000, deliveredBytes: 0, stopReason: 'time' });
  const silentThenCapped = await twoServers(nothing, HEALTHY_CAPPED);
  const s2 = silentThenCapped.sample;
  assert.ok(s2.downloadMbps === undefined || s2.downloadLowerBound === true, 'the other server read "at least": nothing vouched for');
});

test('a dead confirmation server: the silent path does not fall back to the server that went silent', async () => {
  const burstThenSilence = () => throughputResult(54, { lowerBound: true, stopReason: 'time', durationMs: 3_000, deliveredBytes: 20_000 });
  const refused = () => throughputResult(undefined, { errors: ['connect ECONNREFUSED'], failure: 'refused', stopReason: 'error' });
  const { asked, sample } = await twoServers(burstThenSilence, refused);
  assert.deepEqual(asked, ['own', 'confirming']);
  assert.equal(sample.downloadLowerBound, true, 'set aside, as with one server');
});
