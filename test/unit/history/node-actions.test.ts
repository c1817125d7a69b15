/** The node-decoration fingerprint the history recorder compares against: read back whole, a damaged one reads as none. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeChange, fingerprint, parseFingerprint } from '../../../agent/history/node-actions.ts';

const applied = {
  labels: { 'linkward.io/link': 'degraded' },
  taints: ['linkward.io/degraded:PreferNoSchedule'],
  cordoned: false,
  condition: 'True/LinkDegraded',
};

test('a fingerprint reads back as what was applied', () => {
  assert.deepEqual(parseFingerprint(fingerprint(applied)), applied);
  assert.equal(parseFingerprint(null), null);
});

test('a damaged fingerprint reads as none, so describing the next change does not throw', () => {
  for (const bad of [
    '{not json',
    'null',
    '"x"',
    '{"taints": []}', // no labels: describeChange used to throw on every recorder tick
    '{"labels": [], "taints": [], "cordoned": false, "condition": null}',
    '{"labels": {}, "taints": "a", "cordoned": false, "condition": null}',
    '{"labels": {}, "taints": [], "cordoned": "no", "condition": null}',
    '{"labels": {}, "taints": [], "cordoned": false, "condition": 3}',
  ]) {
    const prev = parseFingerprint(bad);
    assert.equal(prev, null, bad);
    assert.doesNotThrow(() => describeChange(prev, applied), bad);
  }
});
