/** Reconcile tests: the node component with the real client-node adapter against the test API server. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { settle, startHarness, waitFor } from '../../support/k8s-harness.ts';
import { ANNOTATION_OWNED, LABEL_LINK_STATE, TAINT_KEY } from '../../../agent/k8s/types.ts';
import { readOwnership } from '../../../agent/k8s/ownership.ts';

for (const client of ['lean', 'client-node'] as const)
  test(`${client}: tiers in order, one Event per transition, recovery removes only what linkward set`, async (t) => {
    const h = await startHarness(['n1']);
    t.after(() => h.close());
    const a = await h.agent('n1', { client, tiers: { down: { cordon: true } } });
    assert.match(String(a.details().source), client === 'lean' ? /lean client/ : /^kubeconfig/);
    a.emit('healthy');
    await waitFor('healthy label', () => h.node('n1').labels[LABEL_LINK_STATE] === 'healthy');
    a.emit('degraded', 3);
    await waitFor(
      'degraded taint and condition',
      () =>
        h.node('n1').taints.some((x) => x.effect === 'PreferNoSchedule') &&
        h.node('n1').conditions.some((c) => c.type === 'NetworkDegraded' && c.status === 'True'),
    );
    let n = h.node('n1');
    assert.equal(n.labels['linkward.io/bandwidth-class'], '1m-5m');
    assert.equal(n.conditions.find((c) => c.type === 'NetworkDegraded')?.status, 'True');
    a.emit('down', 0.5);
    await waitFor('cordon', () => h.node('n1').unschedulable);
    await settle(h.api);
    n = h.node('n1');
    assert.deepEqual(
      n.taints.map((x) => `${x.key}=${x.value}:${x.effect}`),
      [`${TAINT_KEY}=down:NoSchedule`],
    );
    assert.equal(a.details().fleet && (a.details().fleet as { held: boolean }).held, true);
    a.emit('healthy', 50);
    await waitFor('recovered', () => !h.node('n1').unschedulable && h.node('n1').taints.length === 0);
    await settle(h.api);
    const reasons = h.api.store.list('events', 'default').map((e) => e.reason);
    assert.deepEqual(reasons, ['LinkHealthy', 'LinkDegraded', 'LinkDown', 'LinkHealthy']);
    const holders = h.api.store.get('leases.coordination.k8s.io', 'kube-system', 'linkward-fleet')?.metadata?.annotations as Record<string, string>;
    assert.equal(holders['linkward.io/holders'], '[]', 'hold released after recovery');
    const metrics = await a.ctx.metrics.metrics();
    assert.match(metrics, /linkward_k8s_api_requests_total\{verb="patch",result="ok"\} \d+/);
    assert.match(metrics, /linkward_k8s_decorations_applied_total\{kind="cordon"\} 1/);
    assert.match(metrics, /linkward_k8s_decorations_applied_total\{kind="event"\} 4/);
    assert.match(metrics, /linkward_k8s_fleet_lease_held 0/);
    const st = a.component.status();
    assert.equal(st.state, 'ok');
    assert.deepEqual((st.details as { pending: string[] }).pending, []);
  });

test('ownership matrix: pre-cordoned node, admin taint with the same key, label removed by hand', async (t) => {
  const h = await startHarness(['n1']);
  t.after(() => h.close());
  const pre = h.api.store.get('nodes', '', 'n1');
  assert.ok(pre);
  pre.spec = { unschedulable: true, taints: [{ key: TAINT_KEY, value: 'maintenance', effect: 'NoSchedule' }] };
  h.api.seed('nodes', pre);
  const a = await h.agent('n1', { tiers: { down: { cordon: true } } });
  a.emit('down', 0.5);
  await waitFor('down label', () => h.node('n1').labels[LABEL_LINK_STATE] === 'down');
  await settle(h.api);
  let n = h.node('n1');
  assert.equal(n.taints.length, 1, 'no duplicate of the admin taint');
  assert.deepEqual(readOwnership(n), { labels: ['linkward.io/bandwidth-class', 'linkward.io/link-state', 'linkward.io/uplink'], taints: [], cordon: false });
  // An admin removes our label by hand; the periodic resync repairs it.
  const cur = h.api.store.get('nodes', '', 'n1');
  assert.ok(cur?.metadata);
  delete (cur.metadata.labels as Record<string, string>)[LABEL_LINK_STATE];
  h.api.seed('nodes', cur);
  h.clock.advance(60_000);
  await waitFor('label repaired', () => h.node('n1').labels[LABEL_LINK_STATE] === 'down');
  a.emit('healthy', 50);
  await waitFor('healthy', () => h.node('n1').labels[LABEL_LINK_STATE] === 'healthy');
  await settle(h.api);
  n = h.node('n1');
  assert.equal(n.unschedulable, true, 'admin cordon stays');
  assert.deepEqual(n.taints, [{ key: TAINT_KEY, value: 'maintenance', effect: 'NoSchedule' }], 'admin taint stays');
  assert.ok(n.annotations[ANNOTATION_OWNED]);
});

test('API outage of 10 minutes: no crash, backoff, reconciled within 30 s of the API answering again', async (t) => {
  const h = await startHarness(['n1']);
  t.after(() => h.close());
  const a = await h.agent('n1');
  a.emit('healthy');
  await waitFor('healthy', () => h.node('n1').labels[LABEL_LINK_STATE] === 'healthy');
  await settle(h.api);
  await h.api.goOffline();
  a.emit('down', 0.2);
  const before = h.api.requests.length;
  // 10 simulated minutes in 5 s steps (bounded: 120 steps), each failing retry answered by ECONNREFUSED at once.
  for (let i = 0; i < 120; i++) {
    h.clock.advance(5_000);
    await new Promise((r) => setTimeout(r, 5));
  }
  await waitFor('degraded status', () => a.component.status().state === 'degraded');
  const st = a.component.status();
  assert.match(st.message ?? '', /LW_K8S_UNAVAILABLE/);
  assert.equal((st.details?.lastError as { code: string } | null)?.code, 'LW_K8S_UNAVAILABLE');
  assert.equal(h.api.requests.length, before, 'nothing reached the server while offline');
  await h.api.start();
  const back = h.clock.nowMs();
  // Step the clock 1 s at a time until the node shows the down state (bounded: 40 steps).
  for (let i = 0; i < 40 && h.node('n1').labels[LABEL_LINK_STATE] !== 'down'; i++) {
    h.clock.advance(1_000);
    await new Promise((r) => setTimeout(r, 30));
  }
  await waitFor('down applied after recovery', () => h.node('n1').labels[LABEL_LINK_STATE] === 'down');
  const tookS = (h.clock.nowMs() - back) / 1000;
  assert.ok(tookS <= 30, `reconciled ${tookS} s after the API came back (must be ≤ 30 s)`);
  await waitFor('ok status', () => a.component.status().state === 'ok');
});

test('409 storm: re-read and retry until the patch lands', async (t) => {
  const h = await startHarness(['n1']);
  t.after(() => h.close());
  h.api.faults.push({ method: 'PATCH', path: /^\/api\/v1\/nodes\/n1$/, status: 409, times: 12 });
  const a = await h.agent('n1');
  a.emit('degraded', 3);
  for (let i = 0; i < 30 && h.node('n1').labels[LABEL_LINK_STATE] !== 'degraded'; i++) {
    h.clock.advance(2_000);
    await new Promise((r) => setTimeout(r, 30));
  }
  await waitFor('degraded applied', () => h.node('n1').labels[LABEL_LINK_STATE] === 'degraded');
  const conflicts = h.api.requests.filter((r) => r.method === 'PATCH' && r.status === 409).length;
  assert.equal(conflicts, 12);
  assert.equal(a.component.status().state, 'ok');
});

test('dry run logs and writes nothing', async (t) => {
  const h = await startHarness(['n1']);
  t.after(() => h.close());
  const a = await h.agent('n1', { dryRun: true, tiers: { down: { cordon: true } } });
  a.emit('down', 0.5);
  await waitFor('a pass ran', () => (a.details().desired as { state?: string } | null)?.state === 'down');
  await settle(h.api);
  assert.deepEqual(h.api.writes(), []);
  assert.ok((a.details().pending as string[]).includes('cordon'));
});

test('no cluster found: node actions off, said clearly in status', async () => {
  const { createNodeComponent } = await import('../../../agent/k8s/component.ts');
  const { validateConfig } = await import('../../../agent/config/load.ts');
  const { AgentBus } = await import('../../../agent/runtime/bus.ts');
  const { ManualClock } = await import('../../../agent/base/clock.ts');
  const { silentLogger } = await import('../../../agent/base/log.ts');
  const { Registry } = await import('prom-client');
  const v = validateConfig({});
  assert.ok(v.ok);
  const c = createNodeComponent(
    {
      config: v.config,
      log: silentLogger(),
      clock: new ManualClock(),
      metrics: new Registry(),
      bus: new AgentBus(),
      stateDir: '/x',
      stateDb: undefined as never,
      nodeName: 'n1',
    },
    { createApi: () => Promise.reject(new Error('no cluster: never called')), findCluster: () => null, random: () => 0.5 },
  );
  await c.start();
  assert.equal(c.status().state, 'disabled');
  assert.match(c.status().message ?? '', /no Kubernetes cluster found/);
  await c.stop();
});
