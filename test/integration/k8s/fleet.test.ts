/** Fleet cap: several agents against one API server share a Lease semaphore; holds expire or vanish with their node. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { settle, startHarness, waitFor, type Harness } from '../../support/k8s-harness.ts';
import { LABEL_LINK_STATE } from '../../../agent/k8s/types.ts';

const NAMES = ['n1', 'n2', 'n3', 'n4'];

function effects(h: Harness): Record<string, string> {
  return Object.fromEntries(
    NAMES.filter((n) => h.api.store.get('nodes', '', n)).map((n) => [
      n,
      h
        .node(n)
        .taints.map((t) => t.effect)
        .join(',') + (h.node(n).unschedulable ? '+cordon' : ''),
    ]),
  );
}

function restrictive(h: Harness): string[] {
  return Object.entries(effects(h))
    .filter(([, e]) => (e.includes('NoSchedule') && !e.includes('Prefer')) || e.includes('cordon'))
    .map(([n]) => n);
}

/** Advances the clock in `stepMs` steps, letting HTTP settle in between (bounded by `steps`). */
async function run(h: Harness, steps: number, stepMs: number): Promise<void> {
  for (let i = 0; i < steps; i++) {
    h.clock.advance(stepMs);
    await settle(h.api);
  }
}

/** Resyncs (60 s steps) until `pred` holds, at most 11 (a refused node re-asks within 10 min); asserts `always` after each. */
async function runUntil(h: Harness, pred: () => boolean, always: () => void = () => undefined): Promise<number> {
  for (let i = 1; i <= 11; i++) {
    await run(h, 1, 60_000);
    always();
    if (pred()) return i;
  }
  assert.fail('not reached within 11 resyncs');
}

test('maxUnavailable 1 of 4: one node gets NoSchedule+cordon, the rest fall back to PreferNoSchedule; labels everywhere', async (t) => {
  const h = await startHarness(NAMES);
  t.after(() => h.close());
  const agents = [];
  for (const n of NAMES)
    agents.push(
      await h.agent(n, {
        maxBackoffMs: 5_000,
        fleet: { maxUnavailable: 1, nodeSelector: 'fleet=edge', leaseTtlSeconds: 60 },
        tiers: { down: { cordon: true } },
      }),
    );
  for (const a of agents) a.emit('down', 0.3);
  await waitFor('all labelled down', () => NAMES.every((n) => h.node(n).labels[LABEL_LINK_STATE] === 'down'));
  await settle(h.api);
  assert.equal(restrictive(h).length, 1, JSON.stringify(effects(h)));
  const holder = restrictive(h)[0] ?? '';
  for (const n of NAMES.filter((x) => x !== holder)) assert.equal(effects(h)[n], 'PreferNoSchedule');
  // Resyncs for 10 simulated minutes never exceed the cap.
  for (let i = 0; i < 10; i++) {
    await run(h, 1, 60_000);
    assert.equal(restrictive(h).length, 1, JSON.stringify(effects(h)));
  }

  // The holder's node is deleted (agent gone with it): another agent takes the hold at its next resync.
  const idx = NAMES.indexOf(holder);
  await agents[idx]?.component.stop();
  h.api.store.delete('nodes', '', holder);
  // Refused agents back off their re-asks (≤ 10 min): one of them takes the slot, never two.
  await runUntil(
    h,
    () => restrictive(h).length === 1,
    () => assert.ok(restrictive(h).length <= 1, JSON.stringify(effects(h))),
  );
  const next = restrictive(h);
  assert.equal(next.length, 1, JSON.stringify(effects(h)));
  assert.notEqual(next[0], holder);
});

test('a holder that dies keeps counting while its NoSchedule taint stays (hold expired or not); removing it frees the slot', async (t) => {
  const h = await startHarness(['n1', 'n2']);
  t.after(() => h.close());
  const fleet = { maxUnavailable: 1, leaseTtlSeconds: 120 };
  const a1 = await h.agent('n1', { fleet, maxBackoffMs: 5_000 });
  a1.emit('down', 0.3);
  await waitFor('n1 NoSchedule', () => h.node('n1').taints.some((x) => x.effect === 'NoSchedule'));
  await a1.component.stop(); // crashed agent: its hold is never released, its taint stays
  const a2 = await h.agent('n2', { fleet, maxBackoffMs: 5_000 });
  a2.emit('down', 0.3);
  await waitFor('n2 labelled', () => h.node('n2').labels[LABEL_LINK_STATE] === 'down');
  await settle(h.api);
  assert.equal(h.node('n2').taints[0]?.effect, 'PreferNoSchedule', 'capped while n1 holds');
  assert.match(
    String((a2.details().fleet as { reason?: string }).reason),
    /fleet cap reached: 1\/1 nodes unavailable \(n1 \(taint linkward\.io\/link:NoSchedule\)\)/,
  );
  // n1's 120 s hold expires, but its NoSchedule taint still makes it unavailable: n2 stays capped.
  await run(h, 4, 60_000);
  assert.equal(h.node('n2').taints[0]?.effect, 'PreferNoSchedule', "a dead holder's taint still counts");
  // An admin removes the dead agent's taint: at its next resync n2 takes the slot.
  const n1 = h.api.store.get('nodes', '', 'n1');
  assert.ok(n1);
  n1.spec = {};
  h.api.seed('nodes', n1);
  const took = await runUntil(h, () => h.node('n2').taints[0]?.effect === 'NoSchedule');
  t.diagnostic(`n2 took the freed slot after ${took} resync(s)`);
});

test('cap 2 of 5 counts real unavailability: an admin-cordoned node, a NotReady node, a dead holder; never more than 2 restrictive', async (t) => {
  const names = ['n1', 'n2', 'n3', 'n4', 'n5'];
  const h = await startHarness(names);
  t.after(() => h.close());
  const k = { maxBackoffMs: 5_000, fleet: { maxUnavailable: 2, nodeSelector: 'fleet=edge', leaseTtlSeconds: 60 }, tiers: { down: { cordon: true } } };
  // n5 is cordoned by an admin (no linkward involvement).
  const n5 = h.api.store.get('nodes', '', 'n5');
  assert.ok(n5);
  n5.spec = { unschedulable: true };
  h.api.seed('nodes', n5);
  const unavailable = (): string[] =>
    names.filter(
      (n) =>
        h.api.store.get('nodes', '', n) &&
        (h.node(n).unschedulable ||
          h.node(n).taints.some((x) => x.effect === 'NoSchedule') ||
          h.node(n).conditions.some((c) => c.type === 'Ready' && c.status !== 'True')),
    );
  const a1 = await h.agent('n1', k);
  a1.emit('down', 0.2);
  await waitFor('n1 cordoned', () => h.node('n1').unschedulable);
  await settle(h.api);
  assert.deepEqual(unavailable(), ['n1', 'n5']);
  // n1's agent dies (kill -9): hold and cordon stay. Time passes beyond its TTL.
  await a1.component.stop();
  await run(h, 3, 60_000);
  const a2 = await h.agent('n2', k);
  const a3 = await h.agent('n3', k);
  a2.emit('down', 0.2);
  a3.emit('down', 0.2);
  await waitFor('n2, n3 labelled', () => h.node('n2').labels[LABEL_LINK_STATE] === 'down' && h.node('n3').labels[LABEL_LINK_STATE] === 'down');
  await settle(h.api);
  for (let i = 0; i < 3; i++) {
    await run(h, 1, 60_000);
    assert.deepEqual(unavailable(), ['n1', 'n5'], "the dead holder's cordon and the admin cordon fill the cap");
  }
  assert.match(String((a2.details().fleet as { reason?: string }).reason), /2\/2 nodes unavailable \(n1 \(cordoned\), n5 \(cordoned\)\)/);
  // The admin uncordons n5: exactly one of n2/n3 takes the slot at its next resync.
  const back = h.api.store.get('nodes', '', 'n5');
  assert.ok(back);
  back.spec = {};
  h.api.seed('nodes', back);
  await runUntil(
    h,
    () => unavailable().length === 2 && (h.node('n2').unschedulable || h.node('n3').unschedulable),
    () => assert.ok(unavailable().length <= 2, unavailable().join()),
  );
  const now = unavailable();
  assert.equal(now.length, 2, now.join());
  assert.ok(now.includes('n1'));
  // n4 goes NotReady (kubelet stopped posting): it counts too; still never more than 2 restrictive linkward nodes + it.
  const n4 = h.api.store.get('nodes', '', 'n4');
  assert.ok(n4?.status);
  (n4.status as { conditions: { type: string; status: string }[] }).conditions[0] = { type: 'Ready', status: 'Unknown' };
  h.api.seed('nodes', n4);
  // The admin clears the dead n1 (uncordon): the freed slot is not taken, because NotReady n4 fills it.
  const n1 = h.api.store.get('nodes', '', 'n1');
  assert.ok(n1);
  n1.spec = {};
  h.api.seed('nodes', n1);
  await run(h, 11, 60_000); // long enough for every refused agent to have asked again
  const cordoned = ['n2', 'n3'].filter((n) => h.node(n).unschedulable);
  assert.equal(cordoned.length, 1, `n4 NotReady keeps the other one capped: ${unavailable().join()}`);
});

test('steady state: API requests per simulated hour (healthy, snapshots every 5 s, resync 60 s, bookmarks each minute)', async (t) => {
  const h = await startHarness(['n1']);
  t.after(() => h.close());
  const a = await h.agent('n1');
  a.emit('healthy', 42);
  await waitFor('healthy', () => h.node('n1').labels[LABEL_LINK_STATE] === 'healthy');
  await settle(h.api);
  const w0 = h.api.writes().length;
  const r0 = h.api.requests.length;
  // One hour: 720 snapshots 5 s apart, bandwidth jittering around 40–45 Mbps.
  for (let i = 0; i < 720; i++) {
    h.clock.advance(5_000);
    a.emit('healthy', 40 + (i % 6));
    if (i % 12 === 11) {
      h.api.bookmark(); // as kube-apiserver, about once a minute
      await settle(h.api);
    }
  }
  await settle(h.api);
  const writes = h.api.writes().length - w0;
  const reads = h.api.requests.length - r0 - writes;
  assert.ok(reads <= 2, `the watch replaces the Node GETs: ${reads} reads (watch requests)`);
  t.diagnostic(`steady state per hour: writes=${writes} reads=${reads}`);
  assert.ok(writes <= 12, `at most one condition heartbeat per 5 min, got ${writes}`);
  assert.ok(writes >= 11, `heartbeat must still happen (~12/h), got ${writes}`);
  assert.ok(
    h.api
      .writes()
      .slice(w0)
      .every((r) => r.path.endsWith('/status')),
    'only condition heartbeats',
  );
});

test('after a restart with a healthy link, a hold left by the previous run is released at once', async (t) => {
  const h = await startHarness(['n1', 'n2']);
  t.after(() => h.close());
  const fleet = { maxUnavailable: 1, leaseTtlSeconds: 600 };
  const first = await h.agent('n1', { fleet });
  first.emit('down', 0.3);
  await waitFor('n1 NoSchedule', () => h.node('n1').taints.some((x) => x.effect === 'NoSchedule'));
  await first.component.stop();
  const again = await h.agent('n1', { fleet });
  again.emit('healthy', 50);
  await waitFor('n1 untainted', () => h.node('n1').taints.length === 0);
  await settle(h.api);
  const lease = h.api.store.get('leases.coordination.k8s.io', 'kube-system', 'linkward-fleet');
  assert.equal((lease?.metadata?.annotations as Record<string, string> | undefined)?.['linkward.io/holders'], '[]');
  const other = await h.agent('n2', { fleet });
  other.emit('down', 0.3);
  await waitFor('n2 gets the hold without waiting for the TTL', () => h.node('n2').taints.some((x) => x.effect === 'NoSchedule'));
});

test('the hold is renewed every third of its TTL on its own timer (resync 10 min), so a 60 s hold never lapses', async (t) => {
  const h = await startHarness(['n1', 'n2']);
  t.after(() => h.close());
  const k = { resyncSeconds: 600, maxBackoffMs: 5_000, fleet: { maxUnavailable: 1, leaseTtlSeconds: 60 } };
  const a1 = await h.agent('n1', k);
  const a2 = await h.agent('n2', k);
  a1.emit('down', 0.3);
  await waitFor('n1 NoSchedule', () => h.node('n1').taints.some((x) => x.effect === 'NoSchedule'));
  await settle(h.api);
  a2.emit('down', 0.3);
  await waitFor('n2 labelled', () => h.node('n2').labels[LABEL_LINK_STATE] === 'down');
  await settle(h.api);
  const puts0 = h.api.writes(/\/leases\/linkward-fleet$/).length;
  const renewTimes = new Set<string>();
  // 5 simulated minutes in 5 s steps, no link snapshot: only the renewal timer can keep n1's hold.
  for (let i = 0; i < 60; i++) {
    h.clock.advance(5_000);
    await settle(h.api);
    const holds = JSON.parse(
      String(
        (h.api.store.get('leases.coordination.k8s.io', 'kube-system', 'linkward-fleet')?.metadata?.annotations as Record<string, string> | undefined)?.[
          'linkward.io/holders'
        ],
      ),
    ) as { holder: string; renewTime: string }[];
    assert.deepEqual(
      holds.map((x) => x.holder),
      ['n1'],
      `step ${i}: n1 keeps the only hold`,
    );
    const age = h.clock.nowMs() - Date.parse(holds[0]?.renewTime ?? '');
    assert.ok(age <= 25_000, `step ${i}: renewed within a third of the TTL (+ one step), age ${age} ms`);
    renewTimes.add(holds[0]?.renewTime ?? '');
  }
  assert.equal(h.node('n2').taints[0]?.effect, 'PreferNoSchedule', 'n2 stays capped the whole time');
  const puts = h.api.writes(/\/leases\/linkward-fleet$/).length - puts0;
  t.diagnostic(`5 min: ${puts} Lease writes, ${renewTimes.size} renewals`);
  assert.ok(puts >= 14 && puts <= 16, `one renewal per 20 s: ${puts}`);
});

test('a refused node backs off its re-asks: fleet lists per hour stay far below one per resync', async (t) => {
  const h = await startHarness(['n1', 'n2']);
  t.after(() => h.close());
  const k = { maxBackoffMs: 5_000, fleet: { maxUnavailable: 1 }, tiers: { down: { cordon: true } } };
  const a1 = await h.agent('n1', k);
  a1.emit('down', 0.2);
  await waitFor('n1 cordoned', () => h.node('n1').unschedulable);
  const a2 = await h.agent('n2', k);
  a2.emit('down', 0.2);
  await waitFor('n2 labelled', () => h.node('n2').labels[LABEL_LINK_STATE] === 'down');
  await settle(h.api);
  const lists0 = h.api.requests.filter((r) => r.method === 'GET' && r.path === '/api/v1/nodes').length;
  await run(h, 60, 60_000);
  const lists = h.api.requests.filter((r) => r.method === 'GET' && r.path === '/api/v1/nodes').length - lists0;
  t.diagnostic(`capped node, one simulated hour: ${lists} fleet lists (one per resync would be 60)`);
  // Jitter pinned at 0.5: waits 30, 60, 120, 240 s, then 300 s (half the 10 min cap) → ~15 asks; one per resync would be 60.
  assert.ok(lists <= 16, `${lists}`);
  assert.match(String((a2.details().fleet as { reason?: string }).reason), /asking again in ≥ \d+ s/);
  assert.equal(h.node('n2').unschedulable, false);
});
