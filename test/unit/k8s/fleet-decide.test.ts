/** Pure fleet semaphore decisions and the retry backoff. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  type AcquireInput,
  decideAcquire,
  decideRelease,
  fleetCap,
  type Hold,
  liveHolds,
  observeHolds,
  parseHolds,
  unavailableNodes,
  unavailableReason,
} from '../../../agent/k8s/fleet-decide.ts';
import { nodeView } from './helpers.ts';
import { backoffCeilingMs, backoffDelayMs, MIN_BACKOFF_MS } from '../../../agent/k8s/backoff.ts';

const T = Date.UTC(2026, 0, 1);
const at = (ms: number): string => new Date(ms).toISOString();
/** Sightings of `holds`, all first seen at monotonic `monoMs`. */
const seenAt = (holds: Hold[], monoMs: number) => observeHolds(new Map(), holds, monoMs);
/** decideAcquire at wall T + `ms` and monotonic `ms`, with `holds` seen at monotonic 0 unless `seen` says otherwise. */
const acq = (holds: Hold[], me: string, ms: number, o: Partial<AcquireInput> & Pick<AcquireInput, 'cap' | 'fleet'>) =>
  decideAcquire({ holds, seen: seenAt(holds, 0), me, nowMs: T + ms, monoMs: ms, ttlSeconds: 60, ...o });

test('fleetCap: count, percentage rounded down with a floor of 1, 0% and 0 freeze', () => {
  assert.equal(fleetCap(3, 100), 3);
  assert.equal(fleetCap('10%', 100), 10);
  assert.equal(fleetCap('10%', 19), 1);
  assert.equal(fleetCap('10%', 5), 1);
  assert.equal(fleetCap('25%', 10), 2);
  assert.equal(fleetCap('0%', 100), 0);
  assert.equal(fleetCap(0, 100), 0);
});

test('liveHolds drops holds seen unchanged for their TTL × 1.2 and holders whose node is gone', () => {
  const a = { holder: 'a', renewTime: at(T - 10_000), ttlSeconds: 60 };
  const b = { holder: 'b', renewTime: at(T - 61_000), ttlSeconds: 60 };
  const gone = { holder: 'gone', renewTime: at(T), ttlSeconds: 60 };
  // b first seen at 0; a and gone at 51 s. At 73 s, b has stood unchanged for 73 s (> 60 s × 1.2), a for 22 s.
  const seen = observeHolds(seenAt([b], 0), [a, b, gone], 51_000);
  assert.deepEqual(
    liveHolds([a, b, gone], seen, 73_000, new Set(['a', 'b'])).map((h) => h.holder),
    ['a'],
  );
  assert.deepEqual(
    liveHolds([a, b, gone], seen, 73_000, null).map((h) => h.holder),
    ['a', 'gone'],
  );
  assert.deepEqual(parseHolds('not json'), []);
  assert.deepEqual(parseHolds('[{"holder":1}]'), []);
});

test('decideAcquire: grant under the cap, refuse at it, a live hold of mine is renewed at once, a dead one frees after its TTL × 1.2', () => {
  const fleet = new Set(['a', 'b', 'c']);
  const one = [{ holder: 'a', renewTime: at(T), ttlSeconds: 60 }];
  assert.deepEqual(acq(one, 'b', 0, { cap: 1, fleet }), { granted: false, live: 1, cap: 1, counted: ['a (holds)'] });
  const g = acq(one, 'b', 0, { cap: 2, fleet });
  assert.ok(g.granted && g.write.length === 2);
  // The caller asks only when its renewal is due or it believes it holds nothing: a live hold is written at once.
  assert.deepEqual(acq(one, 'a', 10_000, { cap: 1, fleet }), { granted: true, write: [{ holder: 'a', renewTime: at(T + 10_000), ttlSeconds: 60 }] });
  assert.equal(acq(one, 'b', 71_999, { cap: 1, fleet }).granted, false, 'counted for TTL × 1.2 (clock rates differ)');
  const expired = acq(one, 'b', 72_000, { cap: 1, fleet });
  assert.ok(expired.granted, 'a dead holder blocks only until then');
  assert.deepEqual(
    expired.write.map((h) => h.holder),
    ['b'],
    'the expired hold is left out',
  );
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
  const old = { seen: seenAt(expired, -120_000) };
  const aCordoned = new Map([['a', 'cordoned']]);
  // a holds and is cordoned (its own decoration): counted once, so b fits under a cap of 2.
  assert.ok(acq(live, 'b', 0, { cap: 2, fleet, unavailable: aCordoned }).granted);
  // An admin-cordoned d fills the second slot.
  const full = acq(live, 'b', 0, {
    cap: 2,
    fleet,
    unavailable: new Map([
      ['a', 'cordoned'],
      ['d', 'cordoned'],
    ]),
  });
  assert.deepEqual(full, { granted: false, live: 2, cap: 2, counted: ['a (cordoned)', 'd (cordoned)'] });
  // a died: its hold expired but its cordon is still there, so it still counts.
  assert.equal(acq(expired, 'b', 0, { ...old, cap: 1, fleet, unavailable: aCordoned }).granted, false);
  // ... until someone removes it.
  assert.equal(acq(expired, 'b', 0, { ...old, cap: 1, fleet, unavailable: new Map() }).granted, true);
  // My own unavailability never blocks me; a live hold of mine is always renewed.
  assert.ok(acq([], 'b', 0, { cap: 1, fleet, unavailable: new Map([['b', 'cordoned']]) }).granted);
  assert.ok(acq(live, 'a', 1000, { cap: 1, fleet, unavailable: new Map([['d', 'cordoned']]) }).granted);
  assert.deepEqual([...unavailableNodes([nodeView({ name: 'x', unschedulable: true }), nodeView({ name: 'y' })])], [['x', 'cordoned']]);
});
