/** Fleet cap against holders with wrong clocks: holds expire by the agent's own sightings, not by the holder's renewTime. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { settle, startHarness, waitFor, type Harness } from '../../support/k8s-harness.ts';
import { LABEL_LINK_STATE } from '../../../agent/k8s/types.ts';

const DAY = 86_400_000;
const LEASE = ['leases.coordination.k8s.io', 'kube-system', 'linkward-fleet'] as const;
const k = { maxBackoffMs: 5_000, fleet: { maxUnavailable: 1, leaseTtlSeconds: 60 } };

/** Writes n1's hold into the fleet Lease as n1's linkward would, with renewTime from n1's (wrong) clock. */
function writeN1Hold(h: Harness, renewTimeMs: number): void {
  const cur = h.api.store.get(...LEASE);
  h.api.seed(LEASE[0], {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      ...(cur?.metadata ?? { namespace: LEASE[1], name: LEASE[2] }),
      annotations: { 'linkward.io/holders': JSON.stringify([{ holder: 'n1', renewTime: new Date(renewTimeMs).toISOString(), ttlSeconds: 60 }]) },
    },
    spec: { holderIdentity: 'linkward-fleet', leaseDurationSeconds: 60 },
  });
}

const n2Restrictive = (h: Harness): boolean => h.node('n2').taints.some((x) => x.effect === 'NoSchedule');

/** Resyncs (60 s steps) until `pred` holds, at most `max`; returns how many it took. */
async function resyncsUntil(h: Harness, pred: () => boolean, max: number): Promise<number> {
  for (let i = 1; i <= max; i++) {
    h.clock.advance(60_000);
    await settle(h.api);
    if (pred()) return i;
  }
  assert.fail(`not reached within ${max} resyncs`);
}

async function startN2(h: Harness): Promise<void> {
  const a2 = await h.agent('n2', k);
  a2.emit('down', 0.3);
  await waitFor('n2 labelled', () => h.node('n2').labels[LABEL_LINK_STATE] === 'down');
  await settle(h.api);
}

test('a hold left by a node whose clock ran a day ahead frees its slot about a TTL after it stopped changing, not a day later', async (t) => {
  const h = await startHarness(['n1', 'n2']);
  t.after(() => h.close());
  writeN1Hold(h, h.clock.nowMs() + DAY); // n1's linkward went dark without releasing; n1 itself is Ready, undecorated
  await startN2(h);
  assert.equal(h.node('n2').taints[0]?.effect, 'PreferNoSchedule', 'capped while the hold is fresh');
  const took = await resyncsUntil(h, () => n2Restrictive(h), 5);
  t.diagnostic(`n2 took the slot after ${took} resync(s) (TTL 60 s)`);
});

test('a hold renewed by a node whose clock runs a day behind keeps counting while it changes, and frees once it stops', async (t) => {
  const h = await startHarness(['n1', 'n2']);
  t.after(() => h.close());
  writeN1Hold(h, h.clock.nowMs() - DAY);
  await startN2(h);
  // n1 renews every 20 s by its clock, a day behind: a renewTime that looks a day old, yet the record changes.
  for (let i = 0; i < 30; i++) {
    h.clock.advance(20_000);
    writeN1Hold(h, h.clock.nowMs() - DAY);
    await settle(h.api);
    assert.equal(h.node('n2').taints[0]?.effect, 'PreferNoSchedule', `step ${i}: n1's hold still counts`);
  }
  // n2 re-asks with backoff (≤ 10 min); the first ask after n1 stopped sees a record it has not seen yet (live for its
  // TTL from then), a later one sees it unchanged for longer than the TTL.
  const took = await resyncsUntil(h, () => n2Restrictive(h), 22);
  t.diagnostic(`n1 stopped renewing: n2 took the slot after ${took} resync(s)`);
});
