/** kubernetes config checks: the fleet hold TTL must outlast three slow renewals plus a clock-skew margin. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../../agent/config/load.ts';
import { DEFAULT_LEASE_TTL_S, DEFAULT_MAX_BACKOFF_MS, LEASE_TTL_MARGIN_S, minLeaseTtlSeconds } from '../../../agent/config/k8s.ts';

test('a hold TTL below 3 × (maxBackoffMs + requestTimeoutMs) + margin is rejected with its path', () => {
  const min = minLeaseTtlSeconds(DEFAULT_MAX_BACKOFF_MS, 10_000);
  assert.equal(min, 3 * 40 + LEASE_TTL_MARGIN_S);
  assert.ok(DEFAULT_LEASE_TTL_S >= min, 'the default passes');
  const v = validateConfig({ kubernetes: { fleet: { leaseTtlSeconds: 60 } } });
  assert.equal(v.ok, false);
  if (v.ok) return;
  assert.deepEqual(
    v.problems.map((p) => p.path),
    ['kubernetes.fleet.leaseTtlSeconds'],
  );
  assert.match(v.problems[0]?.message ?? '', /60 s is too short.*at least 150 s/);
  assert.ok(validateConfig({ kubernetes: { fleet: { leaseTtlSeconds: 150 } } }).ok, 'exactly the minimum passes');
  assert.ok(
    validateConfig({ kubernetes: { maxBackoffMs: 5_000, requestTimeoutMs: 1_000, fleet: { leaseTtlSeconds: 60 } } }).ok,
    'a shorter backoff allows a shorter TTL',
  );
  assert.ok(validateConfig({ kubernetes: { fleet: { enabled: false, leaseTtlSeconds: 60 } } }).ok, 'no fleet, no check');
});
