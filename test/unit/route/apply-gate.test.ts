/** The route component's apply gate: when an evaluation must re-read and reconcile the kernel. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TROUBLE_RETRY_MS, createApplyGate } from '../../../agent/route/apply-gate.ts';
import { snapshot } from '../../support/route-context.ts';

const OK = { lastError: null, problems: [] };
const snapA = snapshot({ wan: 'healthy', lte: 'healthy' }, 1_000);

test('first evaluation applies; identical inputs then do not, until the tick', () => {
  const g = createApplyGate();
  assert.equal(g.due('wan', {}, snapA, false, OK, 0), true, 'first evaluation');
  g.applied('wan', {}, snapA);
  assert.equal(g.due('wan', {}, snapshot({ wan: 'healthy', lte: 'healthy' }, 2_000), false, OK, 0), false, 'same inputs, newer sample');
  g.tick();
  assert.equal(g.due('wan', {}, snapA, false, OK, 0), true, 'drift-repair tick');
  g.applied('wan', {}, snapA);
  assert.equal(g.due('wan', {}, snapA, false, OK, 0), false, 'the tick is consumed');
});

test('a tick during an apply is not lost: it is consumed by due(), not by applied()', () => {
  const g = createApplyGate();
  assert.equal(g.due('wan', {}, snapA, false, OK, 0), true);
  g.tick(); // fires while the first apply runs
  g.applied('wan', {}, snapA);
  assert.equal(g.due('wan', {}, snapA, false, OK, 0), true);
});

test('any input change or a switch makes it due', () => {
  const g = createApplyGate();
  g.due('wan', { lte: false }, snapA, false, OK, 0);
  g.applied('wan', { lte: false }, snapA);
  assert.equal(g.due('lte', { lte: false }, snapA, false, OK, 0), true, 'active changed');
  assert.equal(g.due('wan', { lte: true }, snapA, false, OK, 0), true, 'NIC to bring up');
  assert.equal(g.due('wan', { lte: false }, snapshot({ wan: 'healthy', lte: 'down' }, 2_000), false, OK, 0), true, "an uplink's health changed");
  assert.equal(g.due('wan', { lte: false }, snapA, true, OK, 0), true, 'switched');
  assert.equal(g.due('wan', { lte: false }, snapA, false, OK, 0), false, 'back to the applied inputs');
});

test('trouble is retried once per retry interval, counted from the last attempt, whether it succeeded or threw', () => {
  const g = createApplyGate(TROUBLE_RETRY_MS);
  const failed = { lastError: 'ip exited 2', problems: [] };
  const unresolved = { lastError: null, problems: ['lte: wwan0 has no IPv4 address'] };
  const R = TROUBLE_RETRY_MS;
  assert.equal(g.due('wan', {}, snapA, false, OK, 1_000), true, 'first evaluation');
  g.applied('wan', {}, snapA); // it left an unresolved uplink
  assert.equal(g.due('wan', {}, snapA, false, unresolved, 1_000 + R - 1), false, 'a snapshot soon after: no new `ip` processes');
  assert.equal(g.due('wan', {}, snapA, false, unresolved, 1_000 + R), true, 'retried once the interval passed');
  // that attempt threw (the kernel read failed), so applied() was never called
  assert.equal(g.due('wan', {}, snapA, false, failed, 1_000 + R + 1), false, 'a failed attempt counts as one: no retry on the next snapshot');
  assert.equal(g.due('wan', {}, snapA, false, failed, 1_000 + 2 * R), true, 'retried one interval after the failed attempt');
  assert.equal(g.due('wan', {}, snapA, false, OK, 1_000 + 4 * R), false, 'no trouble, same inputs: nothing to do');
  assert.equal(g.due('lte', {}, snapA, false, unresolved, 1_000 + 4 * R + 1), true, 'an input change still applies at once');
  assert.equal(g.due('wan', {}, snapA, true, unresolved, 1_000 + 4 * R + 2), true, 'so does a switch');
  const fast = createApplyGate(2_000);
  fast.due('wan', {}, snapA, false, OK, 0);
  fast.applied('wan', {}, snapA);
  assert.equal(fast.due('wan', {}, snapA, false, unresolved, 2_000), true, 'a shorter re-apply interval caps the spacing');
});
