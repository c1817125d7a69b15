/** The test API server's own semantics: patches (merge, strategic, JSON with test), conflicts, status subresource, watch, faults. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeApiServer } from '../../support/kube-apiserver/server.ts';
import { seedNode } from '../../support/kube-apiserver/fixtures.ts';
import { jsonPatch, mergePatch, strategicMergePatch } from '../../support/kube-apiserver/patch.ts';

async function req(
  api: KubeApiServer,
  method: string,
  path: string,
  body?: unknown,
  type = 'application/json',
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(api.url + path, { method, headers: { 'content-type': type }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

test('patch algorithms', () => {
  assert.deepEqual(mergePatch({ a: { b: 1, c: 2 }, l: [1] }, { a: { b: null }, l: [2] }), { a: { c: 2 }, l: [2] });
  const node = {
    status: {
      conditions: [
        { type: 'Ready', status: 'True' },
        { type: 'X', status: 'False' },
      ],
    },
  };
  assert.deepEqual(strategicMergePatch(node, { status: { conditions: [{ type: 'X', status: 'True' }] } }), {
    status: {
      conditions: [
        { type: 'Ready', status: 'True' },
        { type: 'X', status: 'True' },
      ],
    },
  });
  assert.deepEqual(strategicMergePatch(node, { status: { conditions: [{ type: 'X', $patch: 'delete' }] } }), {
    status: { conditions: [{ type: 'Ready', status: 'True' }] },
  });
  assert.deepEqual(
    strategicMergePatch({ spec: { taints: [{ key: 'a', effect: 'NoSchedule' }] } }, { spec: { taints: [{ key: 'b', effect: 'NoSchedule' }] } }),
    { spec: { taints: [{ key: 'b', effect: 'NoSchedule' }] } },
    'taints are atomic',
  );
  assert.deepEqual(
    jsonPatch({ a: [1, 2] }, [
      { op: 'add', path: '/a/-', value: 3 },
      { op: 'test', path: '/a/2', value: 3 },
      { op: 'remove', path: '/a/0' },
    ]),
    { a: [2, 3] },
  );
  assert.throws(() => jsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }]), /testing value \/a failed/);
});

test('resourceVersion conflicts, JSON patch test op, status subresource, no-op patch keeps resourceVersion', async (t) => {
  const api = new KubeApiServer();
  await api.start();
  t.after(() => api.stop());
  const n = seedNode(api, 'n1');
  const rv = String(n.metadata?.resourceVersion);
  const ok = await req(api, 'PATCH', '/api/v1/nodes/n1', { metadata: { resourceVersion: rv, labels: { a: '1' } } }, 'application/merge-patch+json');
  assert.equal(ok.status, 200);
  const stale = await req(api, 'PATCH', '/api/v1/nodes/n1', { metadata: { resourceVersion: rv, labels: { a: '2' } } }, 'application/merge-patch+json');
  assert.equal(stale.status, 409);
  assert.equal(stale.json.reason, 'Conflict');
  const put = await req(api, 'PUT', '/api/v1/nodes/n1', { ...n, metadata: { ...n.metadata, resourceVersion: rv } });
  assert.equal(put.status, 409);
  const jp = await req(
    api,
    'PATCH',
    '/api/v1/nodes/n1',
    [
      { op: 'test', path: '/metadata/labels/a', value: '9' },
      { op: 'replace', path: '/metadata/labels/a', value: '3' },
    ],
    'application/json-patch+json',
  );
  assert.equal(jp.status, 422);
  const jp2 = await req(
    api,
    'PATCH',
    '/api/v1/nodes/n1',
    [
      { op: 'test', path: '/metadata/labels/a', value: '1' },
      { op: 'replace', path: '/metadata/labels/a', value: '3' },
    ],
    'application/json-patch+json',
  );
  assert.equal(jp2.status, 200);
  // Main resource ignores status; the status subresource changes only status.
  const ign = await req(api, 'PATCH', '/api/v1/nodes/n1', { status: { phase: 'x' }, metadata: { labels: { b: '1' } } }, 'application/merge-patch+json');
  assert.equal((ign.json.status as Record<string, unknown>).phase, undefined);
  const st = await req(
    api,
    'PATCH',
    '/api/v1/nodes/n1/status',
    { metadata: { labels: { c: '1' } }, status: { conditions: [{ type: 'NetworkDegraded', status: 'True' }] } },
    'application/strategic-merge-patch+json',
  );
  const conds = (st.json.status as { conditions: { type: string }[] }).conditions.map((c) => c.type);
  assert.deepEqual(conds, ['Ready', 'NetworkDegraded']);
  assert.equal((st.json.metadata as { labels: Record<string, string> }).labels.c, undefined);
  const before = (st.json.metadata as { resourceVersion: string }).resourceVersion;
  const noop = await req(api, 'PATCH', '/api/v1/nodes/n1', { metadata: { labels: { b: '1' } } }, 'application/merge-patch+json');
  assert.equal((noop.json.metadata as { resourceVersion: string }).resourceVersion, before);
  const bad = await req(api, 'PATCH', '/api/v1/nodes/n1', {}, 'text/plain');
  assert.equal(bad.status, 415);
});

test('watch streams ADDED/MODIFIED/DELETED with selectors; faults: 503, slow, refused', async (t) => {
  const api = new KubeApiServer();
  await api.start();
  t.after(() => api.stop());
  seedNode(api, 'n1', { zone: 'a' });
  seedNode(api, 'n2', { zone: 'b' });
  const ac = new AbortController();
  const res = await fetch(`${api.url}/api/v1/nodes?watch=true&labelSelector=zone%3Da`, { signal: ac.signal });
  const reader = res.body?.getReader();
  assert.ok(reader);
  const cur = api.store.get('nodes', '', 'n1');
  assert.ok(cur?.metadata);
  (cur.metadata.labels as Record<string, string>).x = '1';
  api.seed('nodes', cur);
  api.store.delete('nodes', '', 'n1');
  let text = '';
  for (let i = 0; i < 20 && text.split('\n').length < 4; i++) {
    const c = await reader.read();
    if (c.done) break;
    text += new TextDecoder().decode(c.value);
  }
  ac.abort();
  const types = text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; object: { metadata: { name: string } } })
    .map((e) => `${e.type} ${e.object.metadata.name}`);
  assert.deepEqual(types, ['ADDED n1', 'MODIFIED n1', 'DELETED n1']);
  api.faults.push({ status: 503, times: 1 });
  assert.equal((await fetch(`${api.url}/api/v1/nodes/n2`)).status, 503);
  assert.equal((await fetch(`${api.url}/api/v1/nodes/n2`)).status, 200);
  api.faults.push({ delayMs: 200, times: 1 });
  const t0 = Date.now();
  await fetch(`${api.url}/api/v1/nodes/n2`);
  assert.ok(Date.now() - t0 >= 190);
  const url = api.url;
  await api.goOffline();
  await assert.rejects(fetch(`${url}/api/v1/nodes/n2`));
  await api.start();
  assert.equal(api.url, url, 'same port after coming back');
  assert.equal((await fetch(`${url}/api/v1/nodes/n2`)).status, 200);
});
