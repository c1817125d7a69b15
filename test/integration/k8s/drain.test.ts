/** linkward's drain against the test API server: Eviction API, 429 backoff, skips, emptyDir rule, bounded time, never deletes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Clock } from '../../../agent/base/clock.ts';
import { silentLogger } from '../../../agent/base/log.ts';
import type { NodeApi } from '../../../agent/k8s/api.ts';
import type { ClusterSource } from '../../../agent/k8s/cluster.ts';
import { createClientNodeApi } from '../../../agent/k8s/client-node-api.ts';
import { createLeanApi } from '../../../agent/k8s/lean-api.ts';
import { drainNode } from '../../../agent/k8s/drain.ts';
import type { DrainStatus } from '../../../agent/k8s/drain-episode.ts';
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
  // The stopped drain is reported as it happened: web-1 evicted, db-1 not evicted, no "time budget spent".
  await waitFor('drain result', () => (a.details().drain as { running: boolean } | null)?.running === false);
  const d = a.details().drain as {
    summary: string;
    result: { ended: string; evicted: string[]; remaining: string[]; unconfirmed: string[]; timedOut: boolean };
  };
  assert.deepEqual([d.result.ended, d.result.evicted, d.result.remaining, d.result.timedOut], ['stopped', ['default/web-1'], ['default/db-1'], false]);
  // Stopped before it looked whether web-1 was gone: said as such, not counted as remaining.
  assert.deepEqual(d.result.unconfirmed, ['default/web-1']);
  assert.equal(
    d.summary,
    'drain: 1 evicted (1 not yet seen gone); 0 skipped; 1 remaining (not evicted: drain stopped); stopped early (link recovered or agent stopping)',
  );
});

test('component: a node someone else had cordoned is not drained unless drain.ifCordonedByOthers', async (t) => {
  const { startHarness, settle, waitFor } = await import('../../support/k8s-harness.ts');
  for (const ifCordonedByOthers of [false, true]) {
    const h = await startHarness(['n1']);
    t.after(() => h.close());
    const pre = h.api.store.get('nodes', '', 'n1');
    assert.ok(pre);
    pre.spec = { unschedulable: true };
    h.api.seed('nodes', pre);
    seedPod(h.api, 'default', 'web-1', 'n1', { labels: { app: 'web' }, owner: { kind: 'ReplicaSet', name: 'web' } });
    const a = await h.agent('n1', { tiers: { down: { drain: true } }, drain: { ifCordonedByOthers } });
    a.emit('down', 0.1);
    await waitFor('down label', () => h.node('n1').labels['linkward.io/link-state'] === 'down');
    for (let i = 0; i < 3; i++) {
      h.clock.advance(5_000);
      await settle(h.api);
    }
    const evictions = h.api.requests.filter((r) => r.path.endsWith('/eviction')).length;
    if (ifCordonedByOthers) {
      assert.equal(evictions, 1, 'configured: drains');
    } else {
      assert.equal(evictions, 0, "not drained: the cordon is someone else's");
      assert.ok(h.api.store.get('pods', 'default', 'web-1'));
      assert.equal(a.details().drain, null);
      const notes = (a.details().desired as { notes?: string[] }).notes ?? [];
      assert.match(notes.join(), /cordoned by someone else.*drain\.ifCordonedByOthers/);
    }
    assert.equal(h.node('n1').unschedulable, true);
  }
});

const ADAPTERS: [string, (s: ClusterSource, timeoutMs: number) => Promise<NodeApi>][] = [
  ['lean', (src, ms) => createLeanApi(src, ms)],
  ['client-node', (src, ms) => createClientNodeApi(src, ms)],
];
const CACHE = [{ name: 'cache', emptyDir: {} }];

/** A ReplicaSet pod with an emptyDir (`cache-1`), one without (`web-1`) and one with only a hostPath (`logs-1`) on n1. */
function seedLocalStorageNode(api: KubeApiServer): void {
  seedPod(api, 'default', 'cache-1', 'n1', { labels: { app: 'cache' }, owner: { kind: 'ReplicaSet', name: 'cache' }, volumes: CACHE });
  seedPod(api, 'default', 'web-1', 'n1', { labels: { app: 'web' }, owner: { kind: 'ReplicaSet', name: 'web' } });
  seedPod(api, 'default', 'logs-1', 'n1', {
    labels: { app: 'logs' },
    owner: { kind: 'ReplicaSet', name: 'logs' },
    volumes: [{ name: 'varlog', hostPath: { path: '/var/log' } }],
  });
}

for (const [adapter, create] of ADAPTERS) {
  test(`drain (${adapter}): a pod with an emptyDir stays unless deleteEmptyDirData; hostPath does not count`, async (t) => {
    const api = new KubeApiServer();
    await api.start();
    t.after(() => api.stop());
    seedNode(api, 'n1');
    const k = await create({ kind: 'kubeconfig', path: writeKubeconfig(api.url), description: 'test' }, 2000);
    t.after(() => k.close?.());

    // The server keeps what is posted: volumes come back from a list and a get, through this adapter.
    const posted = await fetch(`${api.url}/api/v1/namespaces/default/pods`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'posted' },
        spec: {
          nodeName: 'n9',
          containers: [{ name: 'c', image: 'busybox' }],
          volumes: [
            { name: 'tmp', emptyDir: { medium: 'Memory' } },
            { name: 'h', hostPath: { path: '/x' } },
          ],
        },
      }),
    });
    assert.equal(posted.status, 201);
    assert.deepEqual(
      (await k.listPodsOnNode('n9')).map((p) => p.emptyDirVolumes),
      [['tmp']],
    );
    assert.deepEqual((await k.getPod('default', 'posted'))?.emptyDirVolumes, ['tmp']);

    seedLocalStorageNode(api);
    const r = await drainNode(k, 'n1', { timeoutMs: 30_000, retryMs: 5_000, clock: fastClock(), log: silentLogger() });
    assert.deepEqual(r.evicted.sort(), ['default/logs-1', 'default/web-1']);
    assert.deepEqual(r.skipped, ['default/cache-1 (local storage: emptyDir cache; kubernetes.drain.deleteEmptyDirData is false)']);
    assert.deepEqual(r.emptyDirLeft, ['default/cache-1']);
    assert.deepEqual(r.emptyDirEvicted, []);
    assert.deepEqual([r.remaining, r.timedOut], [[], false]);
    assert.ok(api.store.get('pods', 'default', 'cache-1'), 'the emptyDir pod is still there');
    assert.ok(!api.requests.some((x) => x.path.includes('/cache-1/')), 'not even an eviction attempt');

    seedPod(api, 'default', 'web-1', 'n1', { labels: { app: 'web' }, owner: { kind: 'ReplicaSet', name: 'web' } });
    const skips: string[] = [];
    const all = await drainNode(k, 'n1', {
      timeoutMs: 30_000,
      retryMs: 5_000,
      deleteEmptyDirData: true,
      clock: fastClock(),
      log: silentLogger(),
      onSkip: (x) => skips.push(x),
    });
    assert.deepEqual(all.evicted.sort(), ['default/cache-1', 'default/web-1']);
    assert.deepEqual([all.skipped, all.emptyDirLeft, all.emptyDirEvicted, skips], [[], [], ['default/cache-1'], []]);
    assert.deepEqual(api.store.list('pods', null, null, 'spec.nodeName=n1'), [], 'both evicted');
    assert.ok(!api.requests.some((x) => x.method === 'DELETE'), 'evicted, never deleted');
  });
}

test('component: the default drain leaves the emptyDir pod and says so (status summary, metric); deleteEmptyDirData evicts it', async (t) => {
  const { startHarness, waitFor } = await import('../../support/k8s-harness.ts');
  for (const deleteEmptyDirData of [false, true]) {
    const h = await startHarness(['n1']);
    t.after(() => h.close());
    seedPod(h.api, 'default', 'cache-1', 'n1', { owner: { kind: 'ReplicaSet', name: 'cache' }, volumes: CACHE });
    seedPod(h.api, 'default', 'web-1', 'n1', { owner: { kind: 'ReplicaSet', name: 'web' } });
    // A finished bare pod with an emptyDir: evicted either way (kubectl's finished-pod rule), counted as an eviction, not a skip.
    seedPod(h.api, 'default', 'done-1', 'n1', { phase: 'Failed', volumes: CACHE });
    const drainCfg = deleteEmptyDirData ? { deleteEmptyDirData } : {};
    const a = await h.agent('n1', { tiers: { down: { drain: true } }, drain: drainCfg });
    a.emit('down', 0.1);
    const status = (): DrainStatus | null => a.details().drain as DrainStatus | null;
    await waitFor('drain finished', () => status()?.running === false);
    const s = status();
    assert.equal(h.api.store.get('pods', 'default', 'web-1'), undefined, 'the pod without emptyDir is evicted');
    assert.equal(h.api.store.get('pods', 'default', 'done-1'), undefined, 'the finished pod is evicted');
    const metric = await a.ctx.metrics.getSingleMetricAsString('linkward_k8s_drain_skipped_pods_total');
    assert.doesNotMatch(metric, /reason="finished"/);
    assert.match(
      await a.ctx.metrics.getSingleMetricAsString('linkward_k8s_evictions_total'),
      new RegExp(`linkward_k8s_evictions_total\\{result="ok"\\} ${deleteEmptyDirData ? 3 : 2}`),
    );
    if (!deleteEmptyDirData) {
      assert.ok(h.api.store.get('pods', 'default', 'cache-1'), 'the emptyDir pod stays by default');
      assert.deepEqual(s?.result?.emptyDirLeft, ['default/cache-1']);
      assert.equal(
        s?.summary,
        'drain: 2 evicted; 1 skipped; 0 remaining; 1 left for emptyDir data (default/cache-1; set kubernetes.drain.deleteEmptyDirData: true to evict them)',
      );
      assert.match(metric, /linkward_k8s_drain_skipped_pods_total\{reason="local_storage"\} 1/);
    } else {
      assert.equal(h.api.store.get('pods', 'default', 'cache-1'), undefined, 'evicted with deleteEmptyDirData');
      assert.deepEqual(s?.result?.emptyDirEvicted, ['default/cache-1']);
      assert.equal(s?.summary, 'drain: 3 evicted; 0 skipped; 0 remaining; emptyDir data deleted with default/cache-1');
      assert.doesNotMatch(metric, /reason="local_storage"/);
    }
  }
});
