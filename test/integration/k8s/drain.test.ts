/** linkward's drain against the test API server: Eviction API, 429 backoff, skips, bounded time, never deletes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Clock } from '../../../agent/clock.ts';
import { silentLogger } from '../../../agent/log.ts';
import { createClientNodeApi } from '../../../agent/k8s/client-node-api.ts';
import { drainNode } from '../../../agent/k8s/drain.ts';
import { KubeApiServer } from '../../support/kube-apiserver/server.ts';
import { writeKubeconfig } from '../../support/kube-apiserver/kubeconfig.ts';
import { seedDaemonSet, seedNode, seedPdb, seedPod } from '../../support/kube-apiserver/fixtures.ts';

/** A clock whose sleeps return at once and move monotonic time forward (drain budgets in simulated time). */
function fastClock(): Clock & { slept: number[] } {
  let mono = 0;
  const slept: number[] = [];
  return {
    slept,
    nowMs: () => 1_700_000_000_000 + mono,
    monoMs: () => mono,
    sleep: async (ms) => {
      slept.push(ms);
      mono += ms;
      await new Promise((r) => setImmediate(r));
    },
    setTimer: () => () => undefined,
  };
}

test('drain: evicts managed pods, skips DaemonSet/mirror/unmanaged, backs off on PDB 429, stops at the budget', async (t) => {
  const api = new KubeApiServer();
  await api.start();
  t.after(() => api.stop());
  seedNode(api, 'n1');
  seedDaemonSet(api, 'kube-system', 'ds');
  seedPod(api, 'kube-system', 'ds-1', 'n1', { owner: { kind: 'DaemonSet', name: 'ds' } });
  seedPod(api, 'kube-system', 'static-1', 'n1', { mirror: true });
  seedPod(api, 'default', 'bare', 'n1');
  seedPod(api, 'default', 'web-1', 'n1', { labels: { app: 'web' }, owner: { kind: 'ReplicaSet', name: 'web' } });
  seedPod(api, 'default', 'db-1', 'n1', { labels: { app: 'db' }, owner: { kind: 'ReplicaSet', name: 'db' } });
  seedPod(api, 'default', 'other-node', 'n2', { owner: { kind: 'ReplicaSet', name: 'x' } });
  seedPdb(api, 'default', 'db', { app: 'db' }, 1);
  const k = await createClientNodeApi({ kind: 'kubeconfig', path: writeKubeconfig(api.url), description: 'test' }, 2000);
  const clock = fastClock();
  const outcomes: string[] = [];
  const r = await drainNode(k, 'n1', { timeoutMs: 30_000, retryMs: 5_000, clock, log: silentLogger(), onEviction: (x) => outcomes.push(x) });
  assert.deepEqual(r.evicted, ['default/web-1']);
  assert.deepEqual(r.remaining, ['default/db-1']);
  assert.equal(r.timedOut, true);
  assert.deepEqual(r.skipped.sort(), ['default/bare (unmanaged pod (not forced))', 'kube-system/ds-1 (DaemonSet pod)', 'kube-system/static-1 (mirror pod)']);
  assert.ok(outcomes.filter((x) => x === 'blocked').length >= 5, 'retried the blocked pod every 5 s within 30 s');
  assert.ok(clock.monoMs() <= 30_000, 'bounded by the time budget');
  assert.ok(!api.requests.some((x) => x.method === 'DELETE'), 'never deletes');
  assert.ok(api.store.get('pods', 'default', 'other-node'), 'pods on other nodes untouched');
});

test('component: drain runs once per down episode (fleet-capped, cordons first) and is aborted when the link recovers', async (t) => {
  const { startHarness, settle, waitFor } = await import('../../support/k8s-harness.ts');
  const h = await startHarness(['n1']);
  t.after(() => h.close());
  seedPod(h.api, 'default', 'web-1', 'n1', { labels: { app: 'web' }, owner: { kind: 'ReplicaSet', name: 'web' } });
  seedPod(h.api, 'default', 'db-1', 'n1', { labels: { app: 'db' }, owner: { kind: 'ReplicaSet', name: 'db' } });
  seedPdb(h.api, 'default', 'db', { app: 'db' }, 1);
  const a = await h.agent('n1', { tiers: { down: { drain: true } }, drain: { timeoutSeconds: 600, retrySeconds: 5 } });
  a.emit('down', 0.1);
  await waitFor('cordoned', () => h.node('n1').unschedulable);
  await waitFor('web evicted', () => h.api.store.get('pods', 'default', 'web-1') === undefined);
  for (let i = 0; i < 5; i++) {
    h.clock.advance(5_000);
    await settle(h.api);
  }
  const blocked = h.api.requests.filter((r) => r.path.endsWith('/db-1/eviction') && r.status === 429).length;
  assert.ok(blocked >= 3, `db-1 retried on 429 (${blocked})`);
  assert.deepEqual((a.details().drain as { running: boolean }).running, true);
  a.emit('healthy', 50);
  await waitFor('uncordoned', () => !h.node('n1').unschedulable);
  await settle(h.api);
  const after = h.api.requests.length;
  for (let i = 0; i < 3; i++) {
    h.clock.advance(5_000);
    await settle(h.api);
  }
  assert.equal(h.api.requests.filter((r, i) => i >= after && r.path.endsWith('/eviction')).length, 0, 'no evictions after recovery');
  assert.ok(h.api.store.get('pods', 'default', 'db-1'), 'PDB-protected pod still there');
  assert.equal(a.details().drain, null);
});
