/** One contract test suite for every NodeApi adapter (lean, client-node), against the test API server (HTTP and TLS). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLwError } from '../../agent/base/errors.ts';
import type { NodeApi } from '../../agent/k8s/api.ts';
import type { ClusterSource } from '../../agent/k8s/cluster.ts';
import { K8sErrorCode } from '../../agent/k8s/errors.ts';
import { KubeApiServer } from './kube-apiserver/server.ts';
import { writeKubeconfig } from './kube-apiserver/kubeconfig.ts';
import { seedNode, seedPdb, seedPod } from './kube-apiserver/fixtures.ts';
import { makePki } from './k8s-tls.ts';

export type AdapterFactory = (source: ClusterSource, timeoutMs: number) => Promise<NodeApi>;

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isLwError(e), `expected an LwError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

/** Registers the contract tests for `name`. */
export function nodeApiContract(name: string, factory: AdapterFactory): void {
  async function setup(t: { after(fn: () => Promise<void> | void): void }, tls = false): Promise<{ server: KubeApiServer; api: NodeApi }> {
    const pki = tls ? makePki() : undefined;
    const server = new KubeApiServer(pki ? { tls: { key: pki.key, cert: pki.cert } } : {});
    await server.start();
    seedNode(server, 'n1');
    const api = await factory({ kind: 'kubeconfig', path: writeKubeconfig(server.url, pki?.ca), description: 'test' }, 800);
    t.after(async () => {
      api.close?.();
      await server.stop();
    });
    return { server, api };
  }

  test(`${name}: nodes get/patch with resourceVersion precondition, status subresource, list`, async (t) => {
    const { server, api } = await setup(t);
    const n = await api.getNode('n1');
    assert.equal(n.name, 'n1');
    assert.equal(n.conditions[0]?.type, 'Ready');
    assert.match(n.conditions[0]?.lastHeartbeatTime ?? '', /^\d{4}-\d\d-\d\dT/);
    const p = await api.patchNode('n1', {
      metadata: { resourceVersion: n.resourceVersion, labels: { 'linkward.io/x': '1' } },
      spec: { taints: [{ key: 'linkward.io/link', value: 'down', effect: 'NoSchedule' }] },
    });
    assert.equal(p.labels['linkward.io/x'], '1');
    assert.deepEqual(p.taints, [{ key: 'linkward.io/link', value: 'down', effect: 'NoSchedule' }]);
    await rejectsWith(api.patchNode('n1', { metadata: { resourceVersion: n.resourceVersion, labels: { a: 'b' } } }), K8sErrorCode.CONFLICT);
    const s = await api.patchNodeStatus('n1', {
      status: {
        conditions: [
          {
            type: 'NetworkDegraded',
            status: 'True',
            reason: 'LinkDown',
            message: 'm',
            lastHeartbeatTime: '2026-01-01T00:00:00Z',
            lastTransitionTime: '2026-01-01T00:00:00Z',
          },
        ],
      },
    });
    assert.deepEqual(
      s.conditions.map((c) => c.type),
      ['Ready', 'NetworkDegraded'],
    );
    assert.equal(s.conditions[1]?.lastTransitionTime, '2026-01-01T00:00:00Z');
    const listed = await api.listNodes('');
    assert.deepEqual(
      listed.map((x) => [x.name, x.unschedulable, x.taints.length, x.conditions[0]?.type]),
      [['n1', false, 1, 'Ready']],
    );
    assert.deepEqual(await api.listNodes('zone=none'), []);
    await rejectsWith(api.getNode('nope'), K8sErrorCode.NOT_FOUND);
    assert.equal(server.requests.find((r) => r.method === 'PATCH' && r.path === '/api/v1/nodes/n1')?.contentType, 'application/merge-patch+json');
    assert.equal(server.requests.find((r) => r.path === '/api/v1/nodes/n1/status')?.contentType, 'application/strategic-merge-patch+json');
  });

  test(`${name}: events, leases (create, AlreadyExists, replace, stale → conflict)`, async (t) => {
    const { server, api } = await setup(t);
    await api.createEvent({
      namespace: 'default',
      reason: 'LinkDown',
      message: 'down=1Mbps<5',
      type: 'Warning',
      node: { name: 'n1', uid: 'u1' },
      nowMs: Date.UTC(2026, 0, 1),
    });
    const ev = server.store.list('events', 'default')[0] as { reason?: string; involvedObject?: { kind: string; name: string }; firstTimestamp?: string };
    assert.equal(ev.reason, 'LinkDown');
    assert.deepEqual([ev.involvedObject?.kind, ev.involvedObject?.name], ['Node', 'n1']);
    assert.match(String(ev.firstTimestamp), /^2026-01-01T00:00:00/);
    assert.equal(await api.getLease('kube-system', 'l'), null);
    const l = await api.createLease({
      namespace: 'kube-system',
      name: 'l',
      annotations: { 'linkward.io/holders': '[]' },
      holderIdentity: 'linkward-fleet',
      leaseDurationSeconds: 60,
    });
    assert.equal(l.annotations['linkward.io/holders'], '[]');
    await rejectsWith(api.createLease({ namespace: 'kube-system', name: 'l', annotations: {} }), K8sErrorCode.CONFLICT);
    const r = await api.replaceLease({ ...l, annotations: { 'linkward.io/holders': '["x"]' } });
    assert.notEqual(r.resourceVersion, l.resourceVersion);
    await rejectsWith(api.replaceLease({ ...l, annotations: {} }), K8sErrorCode.CONFLICT);
    assert.equal((await api.getLease('kube-system', 'l'))?.leaseDurationSeconds, 60);
  });

  test(`${name}: pods by node, eviction (201, PDB 429), get after eviction`, async (t) => {
    const { server, api } = await setup(t);
    seedPod(server, 'default', 'a', 'n1', { labels: { app: 'a' }, owner: { kind: 'ReplicaSet', name: 'a' } });
    seedPod(server, 'default', 'b', 'n1', { labels: { app: 'b' }, owner: { kind: 'DaemonSet', name: 'b' } });
    seedPod(server, 'default', 'c', 'n2');
    seedPdb(server, 'default', 'pa', { app: 'a' }, 1);
    const pods = await api.listPodsOnNode('n1');
    assert.deepEqual(pods.map((p) => `${p.name}:${p.ownerKinds.join(',')}`).sort(), ['a:ReplicaSet', 'b:DaemonSet']);
    await rejectsWith(api.evictPod('default', 'a'), K8sErrorCode.TOO_MANY_REQUESTS);
    await api.evictPod('default', 'b');
    assert.equal(await api.getPod('default', 'b'), null);
    assert.equal((await api.getPod('default', 'a'))?.name, 'a');
  });

  test(`${name}: faults map to codes: 503, 403, timeout, refused`, async (t) => {
    const { server, api } = await setup(t);
    server.faults.push({ status: 503, times: 1 });
    await rejectsWith(api.getNode('n1'), K8sErrorCode.UNAVAILABLE);
    server.faults.push({ status: 403, times: 1 });
    await rejectsWith(api.getNode('n1'), K8sErrorCode.FORBIDDEN);
    server.faults.push({ hang: true, times: 1 });
    await rejectsWith(api.getNode('n1'), K8sErrorCode.TIMEOUT);
    server.faults.push({ delayMs: 100, times: 1 });
    assert.equal((await api.getNode('n1')).name, 'n1', 'slow but within the timeout');
    await server.goOffline();
    await rejectsWith(api.getNode('n1'), K8sErrorCode.UNAVAILABLE);
    await server.start();
    assert.equal((await api.getNode('n1')).name, 'n1', 'works again once the API is back');
  });

  test(`${name}: TLS with a CA from the kubeconfig`, async (t) => {
    const { server, api } = await setup(t, true);
    assert.ok(server.url.startsWith('https://'));
    assert.equal((await api.getNode('n1')).name, 'n1');
  });

  test(`${name}: k3s-style kubeconfig: client certificate data, server requires it`, async (t) => {
    const pki = makePki();
    const server = new KubeApiServer({ tls: { key: pki.key, cert: pki.cert, clientCa: pki.ca } });
    await server.start();
    seedNode(server, 'n1');
    const withCert = await factory(
      { kind: 'kubeconfig', path: writeKubeconfig(server.url, pki.ca, { cert: pki.clientCert, key: pki.clientKey }), description: 'k3s' },
      800,
    );
    const noCert = await factory({ kind: 'kubeconfig', path: writeKubeconfig(server.url, pki.ca), description: 'token only' }, 800);
    t.after(async () => {
      withCert.close?.();
      noCert.close?.();
      await server.stop();
    });
    assert.equal((await withCert.getNode('n1')).name, 'n1');
    await rejectsWith(noCert.getNode('n1'), K8sErrorCode.UNAVAILABLE);
  });

  test(`${name}: watch of one node: field selector, resume from resourceVersion, bookmarks, 410 Gone, abort`, async (t) => {
    const { server, api } = await setup(t);
    seedNode(server, 'n2');
    const n = await api.getNode('n1');
    const own = await api.listOwnNode('n1');
    assert.deepEqual([own.node?.name, own.resourceVersion], ['n1', String(server.store.resourceVersion)], "the list's resourceVersion");
    assert.deepEqual(await api.listOwnNode('nope'), { node: null, resourceVersion: String(server.store.resourceVersion) });
    const seen: string[] = [];
    let opened = 0;
    const ac = new AbortController();
    const done = api.watchNode('n1', {
      resourceVersion: n.resourceVersion,
      timeoutSeconds: 60,
      signal: ac.signal,
      onOpen: () => opened++,
      onEvent: (e) => seen.push(e.type === 'BOOKMARK' ? `BOOKMARK ${e.resourceVersion}` : `${e.type} ${e.node.name} ${e.node.labels.x ?? ''}`),
    });
    const waitSeen = async (k: number): Promise<void> => {
      for (let i = 0; i < 200 && seen.length < k; i++) await new Promise((r) => setTimeout(r, 10));
    };
    for (let i = 0; i < 200 && server.openWatches === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(server.openWatches, 1, 'asked with allowWatchBookmarks=true');
    await api.patchNode('n1', { metadata: { labels: { x: '1' } } });
    await api.patchNode('n2', { metadata: { labels: { x: '2' } } }); // another node: filtered out by metadata.name
    await waitSeen(1);
    server.bookmark();
    await waitSeen(2);
    ac.abort();
    await done; // resolves on abort
    assert.deepEqual(seen, ['MODIFIED n1 1', `BOOKMARK ${server.store.resourceVersion}`]);
    assert.equal(opened, 1);
    const watchReq = server.requests.find((r) => r.path.endsWith('?watch'));
    assert.ok(watchReq);
    // Compacted history: the old resourceVersion is gone → LW_K8S_GONE.
    server.store.compact();
    await rejectsWith(
      api.watchNode('n1', { resourceVersion: n.resourceVersion, timeoutSeconds: 5, signal: new AbortController().signal, onEvent: () => undefined }),
      K8sErrorCode.GONE,
    );
    // A refused watch maps like any request.
    server.faults.push({ method: 'GET', path: /^\/api\/v1\/nodes$/, status: 503, times: 1 });
    await rejectsWith(
      api.watchNode('n1', {
        resourceVersion: String(server.store.resourceVersion),
        timeoutSeconds: 5,
        signal: new AbortController().signal,
        onEvent: () => undefined,
      }),
      K8sErrorCode.UNAVAILABLE,
    );
  });
}
