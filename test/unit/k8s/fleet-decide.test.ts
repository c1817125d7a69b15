/** Pure fleet semaphore decisions and the retry backoff. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideAcquire, decideRelease, fleetCap, liveHolds, parseHolds, unavailableNodes, unavailableReason } from '../../../agent/k8s/fleet-decide.ts';
import { nodeView } from './helpers.ts';
import { backoffCeilingMs, backoffDelayMs, MIN_BACKOFF_MS } from '../../../agent/k8s/backoff.ts';

const T = Date.UTC(2026, 0, 1);
const at = (ms: number): string => new Date(ms).toISOString();

test('fleetCap: count, percentage rounded down with a floor of 1, 0% and 0 freeze', () => {
  assert.equal(fleetCap(3, 100), 3);
  assert.equal(fleetCap('10%', 100), 10);
  assert.equal(fleetCap('10%', 19), 1);
  assert.equal(fleetCap('10%', 5), 1);
  assert.equal(fleetCap('25%', 10), 2);
  assert.equal(fleetCap('0%', 100), 0);
  assert.equal(fleetCap(0, 100), 0);
});

test('liveHolds drops expired holds and holders whose node is gone', () => {
  const holds = [
    { holder: 'a', renewTime: at(T - 10_000), ttlSeconds: 60 },
    { holder: 'b', renewTime: at(T - 61_000), ttlSeconds: 60 },
    { holder: 'gone', renewTime: at(T), ttlSeconds: 60 },
  ];
  assert.deepEqual(
    liveHolds(holds, T, new Set(['a', 'b'])).map((h) => h.holder),
    ['a'],
  );
  assert.deepEqual(
    liveHolds(holds, T, null).map((h) => h.holder),
    ['a', 'gone'],
  );
  assert.deepEqual(parseHolds('not json'), []);
  assert.deepEqual(parseHolds('[{"holder":1}]'), []);
});

test('decideAcquire: grant under the cap, refuse at it, renew only after a third of the TTL', () => {
  const fleet = new Set(['a', 'b', 'c']);
  const one = [{ holder: 'a', renewTime: at(T), ttlSeconds: 60 }];
  assert.deepEqual(decideAcquire(one, 'b', T, 60, 1, fleet), { granted: false, live: 1, cap: 1, counted: ['a (holds)'] });
  const g = decideAcquire(one, 'b', T, 60, 2, fleet);
  assert.ok(g.granted && g.write?.length === 2);
  assert.deepEqual(decideAcquire(one, 'a', T + 10_000, 60, 1, fleet), { granted: true, write: null });
  const renew = decideAcquire(one, 'a', T + 20_000, 60, 1, fleet);
  assert.ok(renew.granted && renew.write?.[0]?.renewTime === at(T + 20_000));
  const expired = decideAcquire(one, 'b', T + 60_000, 60, 1, fleet);
  assert.ok(expired.granted, 'a dead holder blocks only until its TTL');
  assert.equal(decideRelease(one, 'b'), null);
  assert.deepEqual(decideRelease(one, 'a'), []);
});

test('backoff: full jitter under a doubling ceiling from 1 s, capped, never below the floor', () => {
  assert.equal(backoffDelayMs(1, 20_000, 0), MIN_BACKOFF_MS, 'a draw of 0 still waits the floor');
  assert.equal(backoffDelayMs(1, 20_000, 0.999), 999);
  assert.equal(backoffDelayMs(3, 20_000, 0.5), 2_000, 'ceiling 4 s, half of it');
  assert.equal(backoffDelayMs(10, 20_000, 0.5), 10_000, 'capped ceiling 20 s');
  assert.equal(backoffDelayMs(1000, 20_000, 1), 20_000, 'never above the cap');
  assert.equal(backoffCeilingMs(2, 20_000), 2_000);
  // Over many draws the capped wait is uniform in [floor, cap): the mean is about cap/2.
  let sum = 0;
  for (let i = 0; i < 1000; i++) sum += backoffDelayMs(20, 20_000, (i + 0.5) / 1000);
  assert.ok(Math.abs(sum / 1000 - 10_000) < 100, `mean ${sum / 1000}`);
});

test('unavailable: cordoned, not Ready, or NoSchedule/NoExecute by anyone; PreferNoSchedule and Ready nodes do not count', () => {
  const ready = [{ type: 'Ready', status: 'True' as const }];
  assert.equal(unavailableReason(nodeView({ conditions: ready })), null);
  assert.equal(unavailableReason(nodeView({ conditions: ready, taints: [{ key: 'linkward.io/link', value: 'degraded', effect: 'PreferNoSchedule' }] })), null);
  assert.equal(unavailableReason(nodeView({ conditions: ready, unschedulable: true })), 'cordoned');
  assert.equal(unavailableReason(nodeView({ conditions: [{ type: 'Ready', status: 'Unknown' }] })), 'Ready=Unknown');
  assert.equal(
    unavailableReason(nodeView({ conditions: ready, taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] })),
    'taint dedicated:NoSchedule',
  );
  assert.equal(
    unavailableReason(nodeView({ conditions: ready, taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }] })),
    'taint node.kubernetes.io/unreachable:NoExecute',
  );
});

test('decideAcquire counts live holders and unavailable nodes once each, never itself; a dead holder counts while decorated', () => {
  const fleet = new Set(['a', 'b', 'c', 'd']);
  const live = [{ holder: 'a', renewTime: at(T), ttlSeconds: 60 }];
  const expired = [{ holder: 'a', renewTime: at(T - 120_000), ttlSeconds: 60 }];
  const aCordoned = new Map([['a', 'cordoned']]);
  // a holds and is cordoned (its own decoration): counted once, so b fits under a cap of 2.
  assert.ok(decideAcquire(live, 'b', T, 60, 2, fleet, aCordoned).granted);
  // An admin-cordoned d fills the second slot.
  const full = decideAcquire(
    live,
    'b',
    T,
    60,
    2,
    fleet,
    new Map([
      ['a', 'cordoned'],
      ['d', 'cordoned'],
    ]),
  );
  assert.deepEqual(full, { granted: false, live: 2, cap: 2, counted: ['a (cordoned)', 'd (cordoned)'] });
  // a died: its hold expired but its cordon is still there, so it still counts.
  assert.equal(decideAcquire(expired, 'b', T, 60, 1, fleet, aCordoned).granted, false);
  // ... until someone removes it.
  assert.equal(decideAcquire(expired, 'b', T, 60, 1, fleet, new Map()).granted, true);
  // My own unavailability never blocks me; a live hold of mine is always renewed.
  assert.ok(decideAcquire([], 'b', T, 60, 1, fleet, new Map([['b', 'cordoned']])).granted);
  assert.deepEqual(decideAcquire(live, 'a', T + 1000, 60, 1, fleet, new Map([['d', 'cordoned']])), { granted: true, write: null });
  assert.deepEqual([...unavailableNodes([nodeView({ name: 'x', unschedulable: true }), nodeView({ name: 'y' })])], [['x', 'cordoned']]);
});
