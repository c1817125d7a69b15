/** One throughput run never spends more than the day's budget allows, confirmations and fallbacks included (pure). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultLinkHealthConfig } from '../../../agent/config/link.ts';
import { budgetView, throughputAllowance } from '../../../probes/budget.ts';
import { MIN_USEFUL_THROUGHPUT_BYTES } from '../../../probes/monitor-deps.ts';
import type { Direction } from '../../../probes/throughput.ts';
import { throughputSample } from '../../../probes/judged-figure.ts';
import { measure } from '../../../probes/uplink-throughput.ts';
import { fakeTestDeps, throughputResult } from '../../support/throughput-results.ts';

const policy = defaultLinkHealthConfig();
const MAX_BYTES = 8_000_000;
const BUDGET_BYTES = 10_000_000;

/**
 * The monitor's budget arithmetic (throughput-tests.ts) over a day with `spendable` bytes left above the light reserve,
 * and a run whose every test spends its whole cap: the first reads 0.4 Mbit/s (bad news in both directions), a confirmation fails
 * after spending its cap when `confirmResets` (a confirmation server resetting mid-test), else reads the same.
 */
async function run(spendable: number, dirs: Direction[], confirmResets: boolean) {
  const used = BUDGET_BYTES * 0.9 - spendable;
  const allowance = (pending = 0) => throughputAllowance(budgetView(BUDGET_BYTES, used + pending), 1, MAX_BYTES, MIN_USEFUL_THROUGHPUT_BYTES);
  const perDirection = throughputAllowance(budgetView(BUDGET_BYTES, used), dirs.length, MAX_BYTES, MIN_USEFUL_THROUGHPUT_BYTES);
  const tests: string[] = [];
  const judged = await measure(
    fakeTestDeps(
      async (dir, max, confirming) => {
        tests.push(`${dir}${confirming ? ' confirming' : ''} ${max}`);
        if (confirming && confirmResets)
          return throughputResult(undefined, { direction: dir, bytesUsed: max, errors: ['read ECONNRESET'], stopReason: 'error' });
        return throughputResult(0.4, { direction: dir, bytesUsed: max });
      },
      { allowance, confirmServer: true },
    ),
    dirs,
    perDirection,
    undefined,
    policy,
  );
  return { tests, spent: throughputSample('wan', 0, judged).bytesUsed, judged };
}

test('3 MB spendable, both directions low, the confirmation server resetting: the run spends 3 MB, not 9 MB', async () => {
  const { tests, spent, judged } = await run(3_000_000, ['down', 'up'], true);
  assert.ok(spent <= 3_000_000, `spent ${spent} B (${tests.join(', ')})`);
  assert.deepEqual(tests, ['down 1500000', 'up 1500000'], 'no room for a second test: each direction keeps its own first test');
  for (const dir of ['down', 'up'] as const) assert.equal(judged.get(dir)?.suspect, 'unconfirmed', `${dir}: one low reading stays unconfirmed`);
});

test('a confirmation takes only what the budget has left after the run so far, and never the next direction’s share', async () => {
  const { tests, spent } = await run(4_000_000, ['down', 'up'], false);
  // 2 MB per direction; the download's confirmation may use what is left after its own test and the upload's share (0)
  assert.deepEqual(tests, ['down 2000000', 'up 2000000'], tests.join(', '));
  assert.ok(spent <= 4_000_000);
  const wide = await run(7_000_000, ['down', 'up'], false);
  // 3.5 MB each: the download's confirmation gets 7 − 3.5 − 3.5 = 0 → none; the upload's gets 0 too
  assert.ok(wide.spent <= 7_000_000, `spent ${wide.spent} (${wide.tests.join(', ')})`);
});

test('whatever is spendable, a run of one direction with a resetting confirmation server stays inside it', async () => {
  for (const spendable of [400_000, 1_000_000, 2_500_000, 6_000_000, 8_000_000]) {
    const { tests, spent } = await run(spendable, ['down'], true);
    assert.ok(spent <= spendable, `${spendable} spendable: spent ${spent} (${tests.join(', ')})`);
    assert.equal(tests.length, 1, 'the first test took the whole spendable budget: no second test');
  }
});

test('a small first test leaves the rest for its confirmation and the fallback, each within the budget', async () => {
  const used = BUDGET_BYTES * 0.9 - 6_000_000;
  const allowance = (pending = 0) => throughputAllowance(budgetView(BUDGET_BYTES, used + pending), 1, MAX_BYTES, MIN_USEFUL_THROUGHPUT_BYTES);
  const tests: string[] = [];
  const judged = await measure(
    fakeTestDeps(
      async (dir, max, confirming) => {
        tests.push(`${confirming ? 'confirming' : 'own'} ${max}`);
        const spent = Math.min(max, 2_500_000);
        if (confirming) return throughputResult(undefined, { direction: dir, bytesUsed: spent, errors: ['read ECONNRESET'], stopReason: 'error' });
        return throughputResult(1, { direction: dir, bytesUsed: spent });
      },
      { allowance, confirmServer: true },
    ),
    ['down'],
    2_000_000,
    undefined,
    policy,
  );
  // own 2 MB cap spends 2 MB (min with 2.5); confirmation: min(2 MB, 6 − 2) = 2 MB; fallback: min(2 MB, 6 − 4) = 2 MB
  assert.deepEqual(tests, ['own 2000000', 'confirming 2000000', 'own 2000000']);
  assert.equal(throughputSample('wan', 0, judged).bytesUsed, 6_000_000);
});
