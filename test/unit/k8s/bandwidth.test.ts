/** Unit tests of bandwidth class bucketing and its hysteresis. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bandwidthClass, className } from '../../../agent/k8s/bandwidth.ts';

const B = [1, 5, 25, 100];

test('buckets', () => {
  assert.equal(bandwidthClass(B, 0.4, undefined), 'lt-1m');
  assert.equal(bandwidthClass(B, 1, undefined), '1m-5m');
  assert.equal(bandwidthClass(B, 30, undefined), '25m-100m');
  assert.equal(bandwidthClass(B, 250, undefined), 'ge-100m');
  assert.equal(className([0.5, 2], 1), '0p5m-2m');
  assert.equal(bandwidthClass(B, undefined, '1m-5m'), '1m-5m', 'unmeasured keeps the label');
});

test('hysteresis: small excursions across a boundary keep the class', () => {
  assert.equal(bandwidthClass(B, 5.5, '1m-5m'), '1m-5m');
  assert.equal(bandwidthClass(B, 6, '1m-5m'), '5m-25m');
  assert.equal(bandwidthClass(B, 4.5, '5m-25m'), '5m-25m');
  assert.equal(bandwidthClass(B, 4.0, '5m-25m'), '1m-5m');
  assert.equal(bandwidthClass(B, 50, 'garbage'), '25m-100m');
});
