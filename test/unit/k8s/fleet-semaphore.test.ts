/** FleetSemaphore on an in-memory Lease with clocks that disagree: restarts, wall-clock steps, own renewals. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LwError } from '../../../agent/base/errors.ts';
import type { LeaseView, NodeApi } from '../../../agent/k8s/api.ts';
import { K8sErrorCode } from '../../../agent/k8s/errors.ts';
import { FleetSemaphore } from '../../../agent/k8s/fleet.ts';
import { ANNOTATION_HOLDERS, type Hold, parseHolds } from '../../../agent/k8s/fleet-decide.ts';
import { cfg, nodeView } from './helpers.ts';

const REAL = Date.UTC(2026, 11, 5, 12);
const S = 1000;
const MIN = 60 * S;
const DAY = 24 * 60 * MIN;
const FLEET = cfg({ fleet: { maxUnavailable: 1, leaseTtlSeconds: 600 } }).fleet;

/** A wall clock that can be stepped, and a monotonic one that only moves forward with it. */
class Clocks {
  wall = REAL;
  mono = 0;
  nowMs = (): number => this.wall;
  monoMs = (): number => this.mono;
  advance(ms: number): void {
    this.wall += ms;
    this.mono += ms;
  }
}

/** The Lease in memory with resourceVersion checks, and a fleet of three Ready nodes. */
function lease(initial: Hold[] = []) {
  let rv = 1;
  let cur: LeaseView = {
    namespace: 'kube-system',
    name: 'linkward-fleet',
    resourceVersion: '1',
    annotations: { [ANNOTATION_HOLDERS]: JSON.stringify(initial) },
  };
  const api = {
    listNodes: async () => ['node-a', 'node-b', 'node-c'].map((name) => nodeView({ name })),
    getLease: async () => structuredClone(cur),
    createLease: async () => assert.fail('the Lease exists'),
    replaceLease: async (l: LeaseView) => {
      if (l.resourceVersion !== cur.resourceVersion) throw new LwError(K8sErrorCode.CONFLICT, 'stale resourceVersion');
      cur = { ...structuredClone(l), resourceVersion: String(++rv) };
      return structuredClone(cur);
    },
  } as unknown as NodeApi;
  /** The next replaceLease commits at once but answers only when `respond()` is called (a slow API server). */
  const slow = { next: false, respond: (): void => {} };
  const replace = api.replaceLease.bind(api);
  api.replaceLease = async (l: LeaseView) => {
    const r = await replace(l);
    if (slow.next) {
      slow.next = false;
      await new Promise<void>((res) => (slow.respond = res));
    }
    return r;
  };
  return {
    api,
    slow,
    holds: (): Hold[] => parseHolds(cur.annotations[ANNOTATION_HOLDERS]),
    setHolds: (h: Hold[]): void => {
      cur = { ...cur, annotations: { [ANNOTATION_HOLDERS]: JSON.stringify(h) }, resourceVersion: String(++rv) };
    },
  };
}

/** Lets queued promise callbacks and I/O-free async steps run (no timers in unit tests). */
const turns = async (n = 20): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

const hold = (holder: string, renewTimeMs: number): Hold => ({ holder, renewTime: new Date(renewTimeMs).toISOString(), ttlSeconds: 600 });

test('after a restart, a hold found in the Lease counts for its TTL × 1.2 from now, however old its renewTime', async () => {
  const l = lease([hold('node-a', REAL - 2 * 60 * MIN)]); // node-a's clock runs 2 h behind (or it died 2 h ago)
  const c = new Clocks();
  const b = new FleetSemaphore(l.api, FLEET, 'node-b', () => 0.5, c);
  assert.equal((await b.acquire()).granted, false, 'first seen now: live for its TTL');
  c.advance(11 * MIN);
  b.forgetRefusals();
  assert.equal((await b.acquire()).granted, false, 'still counted 11 min later (TTL × 1.2 = 12 min)');
  c.advance(MIN);
  b.forgetRefusals();
  assert.equal((await b.acquire()).granted, true, 'unchanged for TTL × 1.2: expired');
  assert.deepEqual(
    l.holds().map((h) => h.holder),
    ['node-b'],
  );
});

test('my hold is renewed every third of the TTL after my wall clock steps back a day, so others keep counting it', async () => {
  const l = lease();
  const ca = new Clocks();
  const cb = new Clocks();
  const a = new FleetSemaphore(l.api, FLEET, 'node-a', () => 0.5, ca);
  const b = new FleetSemaphore(l.api, FLEET, 'node-b', () => 0.5, cb);
  assert.equal((await a.acquire()).granted, true);
  ca.wall -= DAY; // NTP steps node-a's clock back
  const renewTimes = new Set<string>();
  for (let t = 0; t < 30 * MIN; t += 10 * S) {
    ca.advance(10 * S);
    cb.advance(10 * S);
    if (a.renewDueInMs() === 0) assert.equal((await a.acquire()).granted, true);
    assert.ok(a.held(), `held at ${t / S} s`);
    renewTimes.add(l.holds()[0]?.renewTime ?? '');
    if (t % MIN === 0) {
      b.forgetRefusals();
      assert.equal((await b.acquire()).granted, false, `node-b capped at ${t / S} s`);
    }
  }
  assert.ok(renewTimes.size >= 9, `renewed every 200 s: ${renewTimes.size} renewTimes in 30 min`);
});

test('my belief in my hold ends when either clock says the TTL has passed', async () => {
  const l = lease();
  const c = new Clocks();
  const a = new FleetSemaphore(l.api, FLEET, 'node-a', () => 0.5, c);
  await a.acquire();
  c.wall -= DAY; // stepped back: the monotonic clock still counts
  c.advance(600 * S - 1);
  assert.equal(a.held(), true);
  c.advance(1);
  assert.equal(a.held(), false, 'TTL passed on the monotonic clock');
  assert.equal(a.renewDueInMs(), null);
  const c2 = new Clocks();
  const a2 = new FleetSemaphore(lease().api, FLEET, 'node-a', () => 0.5, c2);
  await a2.acquire();
  c2.wall += 600 * S; // a wall step forward (or a system suspend, which stops the monotonic clock)
  assert.equal(a2.held(), false, 'TTL passed on the wall clock');
});

test('a release during a renewal whose answer is slow waits for it: the hold is not believed after the release', async () => {
  const l = lease();
  const c = new Clocks();
  const a = new FleetSemaphore(l.api, FLEET, 'node-a', () => 0.5, c);
  const b = new FleetSemaphore(l.api, FLEET, 'node-b', () => 0.5, new Clocks());
  assert.equal((await a.acquire()).granted, true);
  c.advance(200 * S); // a third of the TTL: the renewal is due
  l.slow.next = true;
  const renewing = a.acquire();
  await turns(); // the renewal's write is committed, its answer not yet in
  const releasing = a.release(); // a reconcile pass: nothing restrictive is wanted any more
  await turns();
  l.slow.respond();
  await renewing;
  await releasing;
  assert.deepEqual(l.holds(), [], 'the release ran after the renewal');
  assert.equal(a.held(), false, 'and nothing brought the belief back');
  assert.equal((await b.acquire()).granted, true, 'node-b takes the one slot; node-a does not think it holds it');
});

test('a renewal that finds its record gone gives the hold up, even when the fleet list that follows fails', async () => {
  const l = lease();
  const c = new Clocks();
  const a = new FleetSemaphore(l.api, FLEET, 'node-a', () => 0.5, c);
  assert.equal((await a.acquire()).granted, true);
  l.setHolds([]); // removed (an admin, or a grant that judged it expired)
  l.api.listNodes = async () => {
    throw new LwError(K8sErrorCode.TIMEOUT, 'API server timed out');
  };
  c.advance(200 * S);
  await assert.rejects(a.acquire());
  assert.equal(a.held(), false);
});
