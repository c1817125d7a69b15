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
