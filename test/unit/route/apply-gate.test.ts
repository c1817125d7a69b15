/** The route component's apply gate: when an evaluation must re-read and reconcile the kernel. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApplyGate } from '../../../agent/route/apply-gate.ts';
import { snapshot } from '../../support/route-context.ts';

const OK = { lastError: null, problems: [] };
const snapA = snapshot({ wan: 'healthy', lte: 'healthy' }, 1_000);

test('first evaluation applies; identical inputs then do not, until the tick', () => {
  const g = createApplyGate();
  assert.equal(g.due('wan', {}, snapA, false, OK), true, 'first evaluation');
  g.applied('wan', {}, snapA);
  assert.equal(g.due('wan', {}, snapshot({ wan: 'healthy', lte: 'healthy' }, 2_000), false, OK), false, 'same inputs, newer sample');
  g.tick();
  assert.equal(g.due('wan', {}, snapA, false, OK), true, 'drift-repair tick');
  g.applied('wan', {}, snapA);
  assert.equal(g.due('wan', {}, snapA, false, OK), false, 'the tick is consumed');
});

test('a tick during an apply is not lost: it is consumed by due(), not by applied()', () => {
  const g = createApplyGate();
  assert.equal(g.due('wan', {}, snapA, false, OK), true);
  g.tick(); // fires while the first apply runs
  g.applied('wan', {}, snapA);
  assert.equal(g.due('wan', {}, snapA, false, OK), true);
});

test('any input change, a switch, a failed apply or unresolved uplinks make it due', () => {
  const g = createApplyGate();
  g.due('wan', { lte: false }, snapA, false, OK);
  g.applied('wan', { lte: false }, snapA);
  assert.equal(g.due('lte', { lte: false }, snapA, false, OK), true, 'active changed');
  assert.equal(g.due('wan', { lte: true }, snapA, false, OK), true, 'NIC to bring up');
  assert.equal(g.due('wan', { lte: false }, snapshot({ wan: 'healthy', lte: 'down' }, 2_000), false, OK), true, "an uplink's health changed");
  assert.equal(g.due('wan', { lte: false }, snapA, true, OK), true, 'switched');
  assert.equal(g.due('wan', { lte: false }, snapA, false, { lastError: 'ip exited 2', problems: [] }), true, 'last apply failed');
  assert.equal(g.due('wan', { lte: false }, snapA, false, { lastError: null, problems: ['lte: wwan0 has no IPv4 address'] }), true, 'unresolved uplink');
  assert.equal(g.due('wan', { lte: false }, snapA, false, OK), false, 'back to the applied inputs');
});
