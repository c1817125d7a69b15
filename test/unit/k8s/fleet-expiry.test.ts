/** Fleet hold expiry judged by this agent's sightings on its monotonic clock, never by the holder's renewTime. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KubernetesConfigSchema } from '../../../agent/config/k8s.ts';
import {
  decideAcquire,
  type Hold,
  type HoldSightings,
  MAX_HOLD_TTL_SECONDS,
  OBSERVED_TTL_FACTOR,
  observeHolds,
  parseHolds,
} from '../../../agent/k8s/fleet-decide.ts';

const REAL = Date.UTC(2026, 11, 5, 12);
const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const TTL = 600;
/** How long another node's hold counts after it was last seen changing: 12 min for a 10-min TTL. */
const COUNTED_MS = TTL * 1000 * OBSERVED_TTL_FACTOR;
const fleet = new Set(['node-a', 'node-b', 'node-c']);
const hold = (renewTimeMs: number, ttlSeconds = TTL, holder = 'node-a'): Hold => ({ holder, renewTime: new Date(renewTimeMs).toISOString(), ttlSeconds });

/** node-b asks at wall `nowMs` and monotonic `monoMs` with cap 1. */
function granted(holds: Hold[], seen: HoldSightings, nowMs: number, monoMs: number): boolean {
  return decideAcquire({ holds, seen, me: 'node-b', nowMs, monoMs, ttlSeconds: TTL, cap: 1, fleet }).granted;
}

test('a hold renewed by a clock a day ahead frees its slot TTL × 1.2 after this agent last saw it change, not a day later', () => {
  const holds = [hold(REAL + DAY)]; // node-a's clock ran a day ahead; then its linkward went dark without releasing
  const seen = observeHolds(new Map(), holds, 0);
  assert.equal(granted(holds, seen, REAL, 0), false, 'counts while fresh');
  const late = COUNTED_MS - 1;
  assert.equal(granted(holds, observeHolds(seen, holds, late), REAL + late, late), false, 'still counted');
  assert.equal(granted(holds, observeHolds(seen, holds, COUNTED_MS), REAL + COUNTED_MS, COUNTED_MS), true, 'unchanged for TTL × 1.2');
});

test('an agent whose clock runs a day ahead still counts a fresh hold (never grants past the cap)', () => {
  const holds = [hold(REAL)];
  const seen = observeHolds(new Map(), holds, 0);
  assert.equal(granted(holds, seen, REAL + DAY, 1000), false);
  // And one whose clock runs a day behind does not count it any longer than TTL × 1.2.
  assert.equal(granted(holds, observeHolds(seen, holds, COUNTED_MS), REAL - DAY + COUNTED_MS, COUNTED_MS), true);
});

test('a renewal (changed record) keeps a hold live; first seen counts from then, as after this agent restarts', () => {
  const r1 = [hold(REAL - 60 * MIN)]; // written an hour ago by node-a's clock; this agent just started
  let seen = observeHolds(new Map(), r1, 0);
  assert.equal(granted(r1, seen, REAL, 0), false, 'a hold first seen is live for its TTL from now');
  const r2 = [hold(REAL - 55 * MIN)]; // node-a renews (its clock an hour behind): a new record
  seen = observeHolds(seen, r2, 5 * MIN);
  const end = 5 * MIN + COUNTED_MS;
  assert.equal(granted(r2, observeHolds(seen, r2, end - 1), REAL + end - 1, end - 1), false, 'just under TTL × 1.2 since the change');
  assert.equal(granted(r2, observeHolds(seen, r2, end), REAL + end, end), true, 'TTL × 1.2 since the change');
});

test(`ttlSeconds from another node's record is believed up to MAX_HOLD_TTL_SECONDS (the config maximum), even Infinity`, () => {
  const holds = parseHolds(`[{"holder":"node-a","renewTime":"${new Date(REAL).toISOString()}","ttlSeconds":1e999}]`);
  assert.equal(holds[0]?.ttlSeconds, Number.POSITIVE_INFINITY);
  const seen = observeHolds(new Map(), holds, 0);
  const end = MAX_HOLD_TTL_SECONDS * 1000 * OBSERVED_TTL_FACTOR;
  assert.equal(granted(holds, observeHolds(seen, holds, end - 1), REAL + end - 1, end - 1), false);
  assert.equal(granted(holds, observeHolds(seen, holds, end), REAL + end, end), true);
  const huge = [hold(REAL, 1e9)];
  assert.equal(granted(huge, observeHolds(observeHolds(new Map(), huge, 0), huge, end), REAL + end, end), true);
  // No linkward writes a longer TTL than the bound: the config schema stops at it.
  assert.equal(KubernetesConfigSchema.safeParse({ fleet: { leaseTtlSeconds: MAX_HOLD_TTL_SECONDS } }).success, true);
  assert.equal(KubernetesConfigSchema.safeParse({ fleet: { leaseTtlSeconds: MAX_HOLD_TTL_SECONDS + 1 } }).success, false);
});

test('my own live hold is written again with a changed renewTime, even when my clock stepped back or did not move', () => {
  const ahead = [hold(REAL + 60 * MIN, TTL, 'node-b')]; // written while node-b's clock ran an hour ahead
  const d = decideAcquire({ holds: ahead, seen: observeHolds(new Map(), ahead, 0), me: 'node-b', nowMs: REAL, monoMs: 0, ttlSeconds: TTL, cap: 1, fleet });
  assert.deepEqual(d, { granted: true, write: [hold(REAL, TTL, 'node-b')] });
  const same = [hold(REAL, TTL, 'node-b')];
  const again = decideAcquire({ holds: same, seen: observeHolds(new Map(), same, 0), me: 'node-b', nowMs: REAL, monoMs: 0, ttlSeconds: TTL, cap: 1, fleet });
  assert.deepEqual(again, { granted: true, write: [hold(REAL + 1, TTL, 'node-b')] }, 'others see a renewal only when the record changes');
});
