/** Unit: which waiting uplinks a failed round of the active uplink hurries, and how often. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RoundHurry } from '../../../probes/round-hurry.ts';

test('a failed round of the active uplink hurries every other waiting uplink, at most once per half base interval', () => {
  const h = new RoundHurry<string>(4_000);
  const cancelled: string[] = [];
  for (const k of ['wan', 'lte', 'sat']) h.waits(k, () => cancelled.push(k));
  assert.deepEqual(h.hurry('wan', false, 0), [], 'not the active uplink: nobody is hurried');
  assert.deepEqual(h.hurry('wan', true, 0), ['lte', 'sat']);
  assert.deepEqual(cancelled, ['lte', 'sat'], 'their waits are cancelled');
  h.waits('lte', () => cancelled.push('lte'));
  h.waits('sat', () => cancelled.push('sat'));
  assert.deepEqual(h.hurry('wan', true, 1_999), [], 'within half the base interval');
  h.started('sat'); // its own timer fired: no longer waiting
  assert.deepEqual(h.hurry('wan', true, 2_000), ['lte']);
  assert.deepEqual(h.hurry('wan', true, 9_000), [], 'nobody waiting');
});
