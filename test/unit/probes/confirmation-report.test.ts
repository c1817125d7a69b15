/** What each second throughput test reports (server, outcome, both readings) and when a slow server becomes a note (pure). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultLinkHealthConfig } from '../../../agent/config/link.ts';
import { SLOW_SERVER_RUNS } from '../../../probes/confirmation-report.ts';
import { buildNotes, type ServerHealth } from '../../../probes/notes.ts';
import { outcomeOf, serverAfter } from '../../../probes/throughput-outcome.ts';
import type { ThroughputResult } from '../../../probes/throughput.ts';
import { measure } from '../../../probes/uplink-throughput.ts';
import { fakeTestDeps, throughputResult } from '../../support/throughput-results.ts';

const policy = defaultLinkHealthConfig();
/** 25 kB delivered in 2 s, stopped by the time cap: a test that went silent (floor 0.1 Mbit/s). */
const silent = () => throughputResult(undefined, { deliveredBytes: 25_000, durationMs: 2_000, stopReason: 'time' });
const refused = () => throughputResult(undefined, { errors: ['connect ECONNREFUSED'], failure: 'refused', stopReason: 'error' });

/** One download run: the own server reads `own`, the confirmation server `other`; returns the recorded test. */
async function runOnce(own: () => ThroughputResult, other: () => ThroughputResult, confirmServer = true) {
  const judged = await measure(
    fakeTestDeps(async (_dir, _max, confirming) => (confirming ? other() : own()), { confirmServer }),
    ['down'],
    4_000_000,
    undefined,
    policy,
  );
  return outcomeOf('wan', 0, judged, policy);
}

test('bad news overruled by the confirmation server: reported with both readings, on `confirm`', async () => {
  const r = await runOnce(
    () => throughputResult(1.1),
    () => throughputResult(48),
  );
  assert.equal(r.confirmations.length, 1);
  const c = r.confirmations[0];
  assert.deepEqual([c?.direction, c?.why, c?.server, c?.outcome], ['down', 'bad_news', 'confirm', 'overruled']);
  assert.equal(c?.first.mbps, 1.1);
  assert.equal(c?.second.mbps, 48);
});

test('both servers read low: agreed_low; a dead confirmation server falls back to the own server and says so', async () => {
  const both = await runOnce(
    () => throughputResult(1.1),
    () => throughputResult(1.3),
  );
  assert.deepEqual([both.confirmations[0]?.server, both.confirmations[0]?.outcome], ['confirm', 'agreed_low']);
  const dead = await runOnce(() => throughputResult(1.1), refused);
  assert.deepEqual([dead.confirmations[0]?.server, dead.confirmations[0]?.outcome], ['own', 'agreed_low']);
  assert.match(dead.confirmations[0]?.second.error ?? '', /^confirmUrl: connect ECONNREFUSED/);
  const one = await runOnce(
    () => throughputResult(1.1),
    () => throughputResult(30),
    false,
  );
  assert.deepEqual([one.confirmations[0]?.server, one.confirmations[0]?.outcome], ['own', 'overruled'], 'without confirmUrl the same server');
});

test('a silent test: agreed_low when the other server is silent too, overruled when it reads well, unconfirmed when it cannot say', async () => {
  const same = await runOnce(silent, silent);
  assert.deepEqual([same.confirmations[0]?.why, same.confirmations[0]?.outcome], ['silent', 'agreed_low']);
  assert.equal(same.confirmations[0]?.first.floorMbps, 0.1);
  const good = await runOnce(silent, () => throughputResult(40));
  assert.equal(good.confirmations[0]?.outcome, 'overruled');
  const capped = await runOnce(silent, () => throughputResult(40, { lowerBound: true, stopReason: 'bytes' }));
  assert.equal(capped.confirmations[0]?.outcome, 'unconfirmed');
  const fine = await runOnce(
    () => throughputResult(40),
    () => throughputResult(40),
  );
  assert.deepEqual(fine.confirmations, [], 'a good first reading runs no second test');
});

test(`the own server read low and the other overruled it ${SLOW_SERVER_RUNS} runs in a row: note throughput_server_slow; any other run resets`, async () => {
  const slow = await runOnce(
    () => throughputResult(1.1),
    () => throughputResult(48),
  );
  const fine = await runOnce(
    () => throughputResult(40),
    () => throughputResult(40),
  );
  const notesOf = (server: ServerHealth) =>
    buildNotes({
      nowMs: 10_000,
      targets: {},
      server,
      budget: { budgetBytes: 10e6, usedBytes: 0, remainingBytes: 10e6, resetAtMs: 20_000, spent: false },
      throughputConfigured: true,
      throughputEnabled: true,
      voids: [],
      policy,
    }).map((n) => n.code);
  let h: ServerHealth = { failingSinceMs: null };
  for (let i = 1; i < SLOW_SERVER_RUNS; i++) h = serverAfter(h, slow, i * 1_000);
  assert.equal(h.slowRuns, SLOW_SERVER_RUNS - 1);
  assert.ok(!notesOf(h).includes('throughput_server_slow'), 'not yet');
  h = serverAfter(h, slow, 9_000);
  assert.ok(notesOf(h).includes('throughput_server_slow'));
  assert.equal(h.slowSinceMs, 1_000, 'since the first run of the streak');
  h = serverAfter(h, fine, 10_000);
  assert.deepEqual(h, { failingSinceMs: null });
  assert.ok(!notesOf(h).includes('throughput_server_slow'));
});

test('measurements_disturbed names the most frequent reason of the window, not merely the latest one', () => {
  const base = {
    targets: {},
    server: { failingSinceMs: null },
    budget: { budgetBytes: 10e6, usedBytes: 0, remainingBytes: 10e6, resetAtMs: 20_000, spent: false },
    throughputConfigured: true,
    throughputEnabled: true,
    policy,
  };
  const voids = [
    { atMs: 1_000, reason: 'unconfirmed' as const, detail: 'two tests read 1.2 and 1.1 Mbit/s' },
    { atMs: 2_000, reason: 'unconfirmed' as const, detail: 'two tests read 1.3 and 1.0 Mbit/s' },
    { atMs: 3_000, reason: 'starved' as const, detail: 'event loop 400 ms late' },
  ];
  const note = buildNotes({ ...base, nowMs: 10_000, voids }).find((n) => n.code === 'measurements_disturbed');
  assert.match(
    note?.message ?? '',
    /^3 measurements set aside in the last 10 min, most because a low speed reading could not be confirmed by a second test \(two tests read 1\.3 and 1\.0 Mbit\/s\)/,
  );
  const one = buildNotes({ ...base, nowMs: 10_000, voids: voids.slice(2) }).find((n) => n.code === 'measurements_disturbed');
  assert.match(one?.message ?? '', /^1 measurement set aside in the last 10 min, because the agent was starved of CPU/);
});
