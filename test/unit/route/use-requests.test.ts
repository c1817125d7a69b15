/** `route use` request outcomes (pure): settled only for the focused request and its uplink; unsettled ones close as already/refused. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REQUESTS_KEPT, createUseRequests } from '../../../agent/route/use-requests.ts';

test('the focused request is settled by the switch to its uplink only, once', () => {
  const r = createUseRequests();
  const req = r.open('a', 'lte', 1);
  r.settle('lte', 'confirmed', 'x');
  assert.equal(req.state, 'pending', 'not focused yet');
  r.focus(req);
  r.settle('wan', 'confirmed', 'other uplink');
  assert.equal(req.state, 'pending');
  r.settle('lte', 'rolled-back', 'no answer', 'unreachable');
  r.settle('lte', 'confirmed', 'later switch');
  assert.deepEqual({ state: req.state, detail: req.detail, cause: req.cause }, { state: 'rolled-back', detail: 'no answer', cause: 'unreachable' });
});

test('a request nothing settled is already (active) or refused with the policy reason; the list is bounded', () => {
  const r = createUseRequests();
  const a = r.open('a', 'lte', 1);
  r.close(a, 'lte', 'n/a');
  assert.equal(a.state, 'already');
  const b = r.open('b', 'lte', 2);
  r.close(b, 'wan', 'lte held down for 300s');
  assert.deepEqual([b.state, b.detail], ['refused', 'lte held down for 300s']);
  for (let i = 0; i < REQUESTS_KEPT + 5; i++) r.open(`x${i}`, 'wan', i);
  assert.equal(r.list().length, REQUESTS_KEPT);
  assert.equal(r.list().at(-1)?.id, `x${REQUESTS_KEPT + 4}`);
});
