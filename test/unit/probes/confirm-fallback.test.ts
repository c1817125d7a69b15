/** The second test of a bad-news figure: against the confirmation server, and against the test's own when that one is dead (pure). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultLinkHealthConfig } from '../../../agent/config/link.ts';
import { throughputSample } from '../../../probes/judged-figure.ts';
import { measure } from '../../../probes/uplink-throughput.ts';
import { fakeTestDeps, throughputResult } from '../../support/throughput-results.ts';

const policy = defaultLinkHealthConfig();
const refused = () => throughputResult(undefined, { errors: ['connect ECONNREFUSED'], failure: 'refused', stopReason: 'error' });

/** One download test as measure() runs it: the first reads 2 Mbit/s (bad news), every confirmation is refused. */
async function slowLinkDeadConfirm(confirmServer: boolean) {
  const asked: string[] = [];
  const judged = await measure(
    fakeTestDeps(
      async (_dir, _max, confirming) => {
        asked.push(confirming ? 'confirming' : 'own');
        return confirming ? refused() : throughputResult(2, { deliveredBytes: 700_000, durationMs: 3_000 });
      },
      { confirmServer },
    ),
    ['down'],
    10_000_000,
    undefined,
    policy,
  );
  return { asked, judged };
}

test('a dead confirmation server: the confirmation runs against the test’s own server, so a slow link is still judged slow', async () => {
  const { asked, judged } = await slowLinkDeadConfirm(true);
  assert.deepEqual(asked, ['own', 'confirming', 'own']);
  const s = throughputSample('wan', 0, judged);
  assert.equal(s.downloadMbps, 2);
  assert.equal(s.downloadLowerBound, undefined, 'confirmed: the agent vouches for it');
});

test('without a confirmation server a failed second test is not repeated: the figure stays unconfirmed, and says why', async () => {
  const { asked, judged } = await slowLinkDeadConfirm(false);
  assert.deepEqual(asked, ['own', 'confirming']);
  assert.equal(judged.get('down')?.suspect, 'unconfirmed');
  assert.match(judged.get('down')?.detail ?? '', /failed: connect ECONNREFUSED/);
});

test('the failed confirmation run’s bytes count against the budget and its error is reported', async () => {
  const judged = await measure(
    fakeTestDeps(
      async (_dir, _max, confirming) =>
        confirming
          ? throughputResult(undefined, { errors: ['socket reset'], failure: 'error', stopReason: 'error', bytesUsed: 6_000_000 })
          : throughputResult(2, { deliveredBytes: 700_000, durationMs: 3_000 }),
      { confirmServer: true },
    ),
    ['down'],
    10_000_000,
    undefined,
    policy,
  );
  assert.equal(throughputSample('wan', 0, judged).bytesUsed, 8_000_000, 'first 1 MB + the failed 6 MB + the fallback 1 MB');
  assert.deepEqual(judged.get('down')?.confirmation?.errors, ['confirmUrl: socket reset']);
});
