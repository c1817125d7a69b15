/** Proves the test API server behaves like kube-apiserver for what linkward uses, driven by the real kubectl. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { systemClock } from '../../../agent/base/clock.ts';
import { silentLogger } from '../../../agent/base/log.ts';
import { drainNode } from '../../../agent/k8s/drain.ts';
import { createLeanApi } from '../../../agent/k8s/lean-api.ts';
import { KubeApiServer } from '../../support/kube-apiserver/server.ts';
import { writeKubeconfig } from '../../support/kube-apiserver/kubeconfig.ts';
import { seedDaemonSet, seedNode, seedPdb, seedPod, type PodOpts } from '../../support/kube-apiserver/fixtures.ts';

const exec = promisify(execFile);
const KUBECTL = '/usr/bin/kubectl';
let api: KubeApiServer;
let kc: string;

/** Runs kubectl asynchronously (the server lives in this process) with a 30 s cap. */
async function kubectl(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await exec(KUBECTL, ['--kubeconfig', kc, ...args], { timeout: 30_000, env: { ...process.env, LC_ALL: 'C', HOME: '/tmp' } });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : 1, out: x.stdout ?? '', err: x.stderr ?? '' };
  }
}

before(async () => {
  assert.ok(existsSync(KUBECTL), 'kubectl missing: install kubectl (e.g. the kubernetes-client package or the upstream binary) to /usr/bin/kubectl');
  api = new KubeApiServer();
  await api.start();
  kc = writeKubeconfig(api.url);
  seedNode(api, 'n1', { zone: 'a' });
  seedNode(api, 'n2', { zone: 'b' });
});
after(() => api.stop());

test('kubectl get (Table), label selector, field selector', async () => {
  const r = await kubectl('get', 'nodes');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\n/);
  assert.match(r.out, /n1\s+Ready/);
  const sel = await kubectl('get', 'nodes', '-l', 'zone=b', '-o', 'name');
  assert.equal(sel.out.trim(), 'node/n2');
  const f = await kubectl('get', 'nodes', '--field-selector', 'metadata.name=n1', '-o', 'name');
  assert.equal(f.out.trim(), 'node/n1');
  const missing = await kubectl('get', 'node', 'nope');
  assert.notEqual(missing.code, 0);
  assert.match(missing.err, /nodes "nope" not found/);
});

test('kubectl label (merge patch), overwrite guard and removal', async () => {
  assert.equal((await kubectl('label', 'node', 'n1', 'linkward.io/link-state=degraded')).code, 0);
  const again = await kubectl('label', 'node', 'n1', 'linkward.io/link-state=down');
  assert.notEqual(again.code, 0, 'kubectl refuses to overwrite without --overwrite');
  assert.equal((await kubectl('label', 'node', 'n1', 'linkward.io/link-state=down', '--overwrite')).code, 0);
  const j = JSON.parse((await kubectl('get', 'node', 'n1', '-o', 'json')).out) as { metadata: { labels: Record<string, string> } };
  assert.equal(j.metadata.labels['linkward.io/link-state'], 'down');
  assert.equal((await kubectl('label', 'node', 'n1', 'linkward.io/link-state-')).code, 0);
  const j2 = JSON.parse((await kubectl('get', 'node', 'n1', '-o', 'json')).out) as { metadata: { labels: Record<string, string> } };
  assert.equal(j2.metadata.labels['linkward.io/link-state'], undefined);
  assert.ok(api.requests.some((r) => r.method === 'PATCH' && r.contentType.startsWith('application/merge-patch+json')));
});

test('kubectl taint (strategic merge patch, taints are an atomic list) and removal by key:effect', async () => {
  assert.equal((await kubectl('taint', 'node', 'n1', 'linkward.io/link=down:NoSchedule')).code, 0);
  assert.equal((await kubectl('taint', 'node', 'n1', 'linkward.io/link=down:PreferNoSchedule')).code, 0);
  const dup = await kubectl('taint', 'node', 'n1', 'linkward.io/link=down:NoSchedule');
  assert.notEqual(dup.code, 0, 'same key+effect needs --overwrite');
  assert.equal((await kubectl('taint', 'node', 'n1', 'linkward.io/link:NoSchedule-')).code, 0);
  const j = JSON.parse((await kubectl('get', 'node', 'n1', '-o', 'json')).out) as { spec: { taints?: { effect: string }[] } };
  assert.deepEqual(
    j.spec.taints?.map((t) => t.effect),
    ['PreferNoSchedule'],
  );
  assert.ok(api.requests.some((r) => r.method === 'PATCH' && r.contentType.startsWith('application/strategic-merge-patch+json')));
});

test('kubectl cordon/uncordon show in STATUS', async () => {
  assert.equal((await kubectl('cordon', 'n2')).code, 0);
  assert.match((await kubectl('get', 'node', 'n2')).out, /Ready,SchedulingDisabled/);
  assert.equal((await kubectl('uncordon', 'n2')).code, 0);
  assert.doesNotMatch((await kubectl('get', 'node', 'n2')).out, /SchedulingDisabled/);
});

test('kubectl drain uses the Eviction API, skips DaemonSet pods, honours a PDB (429) until its timeout', async () => {
  seedDaemonSet(api, 'kube-system', 'agent');
  seedPod(api, 'kube-system', 'agent-n2', 'n2', { labels: { app: 'agent' }, owner: { kind: 'DaemonSet', name: 'agent' } });
  seedPod(api, 'default', 'web-a', 'n2', { labels: { app: 'web' }, owner: { kind: 'ReplicaSet', name: 'web' } });
  seedPod(api, 'default', 'db-a', 'n2', { labels: { app: 'db' }, owner: { kind: 'ReplicaSet', name: 'db' } });
  seedPdb(api, 'default', 'db', { app: 'db' }, 1);
  const r = await kubectl('drain', 'n2', '--ignore-daemonsets', '--timeout=8s');
  assert.notEqual(r.code, 0, 'PDB blocks db-a, so drain times out');
  assert.match(r.err + r.out, /disruption budget/i);
  const evictions = api.requests.filter((x) => x.path.endsWith('/eviction'));
  assert.ok(evictions.some((x) => x.path.includes('/web-a/') && x.status === 201));
  assert.ok(evictions.some((x) => x.path.includes('/db-a/') && x.status === 429));
  assert.ok(!api.requests.some((x) => x.method === 'DELETE' && x.path.includes('/pods/')), 'never deletes pods directly');
  assert.equal(api.store.get('pods', 'default', 'web-a'), undefined);
  assert.ok(api.store.get('pods', 'default', 'db-a'));
  assert.ok(api.store.get('pods', 'kube-system', 'agent-n2'), 'DaemonSet pod left alone');
  assert.match((await kubectl('get', 'node', 'n2')).out, /SchedulingDisabled/);
  // With a second healthy db replica elsewhere the budget allows it.
  seedPod(api, 'default', 'db-b', 'n1', { labels: { app: 'db' }, owner: { kind: 'ReplicaSet', name: 'db' } });
  const ok = await kubectl('drain', 'n2', '--ignore-daemonsets', '--timeout=20s');
  assert.equal(ok.code, 0, ok.err);
  assert.equal(api.store.get('pods', 'default', 'db-a'), undefined);
});

test('kubectl drain refuses emptyDir pods (not hostPath, not finished) without --delete-emptydir-data; linkward leaves the same pods and evicts the finished ones', async (t) => {
  seedNode(api, 'n3');
  // One pod goes in through kubectl (POST): the server must keep its volumes for drain to see them.
  const dir = mkdtempSync(join(tmpdir(), 'lw-kubectl-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const manifest = join(dir, 'posted.json');
  const owner = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'posted', uid: 'uid-posted', controller: true }];
  writeFileSync(
    manifest,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'posted-a', namespace: 'default', ownerReferences: owner },
      spec: {
        nodeName: 'n3',
        containers: [{ name: 'c', image: 'busybox', volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }] }],
        volumes: [{ name: 'tmp', emptyDir: {} }],
      },
    }),
  );
  // --validate=false: client-side schema validation needs /openapi, which the test server does not serve.
  const created = await kubectl('create', '--validate=false', '-f', manifest);
  assert.equal(created.code, 0, created.err);
  const got = JSON.parse((await kubectl('get', 'pod', 'posted-a', '-o', 'json')).out) as { spec: { volumes?: unknown[] } };
  assert.deepEqual(got.spec.volumes, [{ name: 'tmp', emptyDir: {} }]);
  seedPod(api, 'default', 'cache-a', 'n3', { owner: { kind: 'ReplicaSet', name: 'cache' }, volumes: [{ name: 'cache', emptyDir: {} }] });
  seedPod(api, 'default', 'plain-a', 'n3', { owner: { kind: 'ReplicaSet', name: 'plain' } });
  seedPod(api, 'default', 'host-a', 'n3', { owner: { kind: 'ReplicaSet', name: 'host' }, volumes: [{ name: 'h', hostPath: { path: '/var/log' } }] });
  // Finished pods, unmanaged and with an emptyDir: kubectl's local-storage and no-controller rules let them through.
  seedPod(api, 'default', 'done-a', 'n3', { phase: 'Succeeded', volumes: [{ name: 'shm', emptyDir: { medium: 'Memory' } }] });
  seedPod(api, 'default', 'fail-a', 'n3', { phase: 'Failed', volumes: [{ name: 'scratch', emptyDir: {} }] });
  const n3Pod = /\/pods\/(posted|cache|plain|host|done|fail)-a(\/|$)/;
  const n3Evictions = (): number => api.requests.filter((x) => x.path.endsWith('/eviction') && n3Pod.test(x.path)).length;

  const refused = await kubectl('drain', 'n3', '--ignore-daemonsets', '--timeout=8s');
  assert.notEqual(refused.code, 0, 'kubectl refuses the drain');
  const lists = [...refused.err.matchAll(/cannot delete Pods with local storage \(use --delete-emptydir-data to override\): ([^\n]+)/g)];
  const named = (lists.at(-1)?.[1] ?? '').split(', ').sort();
  assert.deepEqual(named, ['default/cache-a', 'default/posted-a'], refused.err);
  assert.equal(n3Evictions(), 0, 'kubectl refuses up front: nothing evicted');

  // linkward (default deleteEmptyDirData: false) leaves exactly the pods kubectl named and evicts the rest.
  const k = await createLeanApi({ kind: 'kubeconfig', path: kc, description: 'test' }, 2000);
  t.after(() => k.close?.());
  const r = await drainNode(k, 'n3', { timeoutMs: 10_000, retryMs: 1_000, clock: systemClock, log: silentLogger() });
  assert.deepEqual([...r.emptyDirLeft].sort(), named);
  // Finished pods are not among those kubectl refuses for: linkward evicts them, as kubectl does once it proceeds (below).
  assert.deepEqual(r.evicted.sort(), ['default/done-a', 'default/fail-a', 'default/host-a', 'default/plain-a']);
  assert.deepEqual(r.skipped.sort(), [
    'default/cache-a (local storage: emptyDir cache; kubernetes.drain.deleteEmptyDirData is false)',
    'default/posted-a (local storage: emptyDir tmp; kubernetes.drain.deleteEmptyDirData is false)',
  ]);

  const ok = await kubectl('drain', 'n3', '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=20s');
  assert.equal(ok.code, 0, ok.err);
  assert.deepEqual(api.store.list('pods', null, null, 'spec.nodeName=n3'), [], 'with the flag: emptyDir pods and the finished (unmanaged) pod are evicted');
  assert.ok(!api.requests.some((x) => x.method === 'DELETE' && n3Pod.test(x.path)), 'evicted, not deleted');
});

test('finished pods (Succeeded/Failed; unmanaged, emptyDir, DaemonSet-owned) are evicted by kubectl drain and by linkward alike', async (t) => {
  seedNode(api, 'n4');
  seedDaemonSet(api, 'default', 'logs');
  const pods: [string, PodOpts][] = [
    ['run-rs', { owner: { kind: 'ReplicaSet', name: 'run' } }],
    ['run-ds', { owner: { kind: 'DaemonSet', name: 'logs' } }],
    ['run-mirror', { mirror: true }],
    ['ok-bare', { phase: 'Succeeded' }],
    ['err-bare', { phase: 'Failed' }],
    ['ok-ed', { phase: 'Succeeded', volumes: [{ name: 'cache', emptyDir: {} }] }],
    ['err-ed-rs', { phase: 'Failed', owner: { kind: 'ReplicaSet', name: 'err' }, volumes: [{ name: 'shm', emptyDir: { medium: 'Memory' } }] }],
    ['err-ds', { phase: 'Failed', owner: { kind: 'DaemonSet', name: 'logs' } }],
    ['ok-mirror', { phase: 'Succeeded', mirror: true }],
  ];
  const seedAll = (): void => void pods.forEach(([name, o]) => seedPod(api, 'default', name, 'n4', o));
  const left = (): string[] =>
    api.store
      .list('pods', null, null, 'spec.nodeName=n4')
      .map((p) => String(p.metadata?.name))
      .sort();
  const expectedLeft = ['ok-mirror', 'run-ds', 'run-mirror'];

  seedAll();
  const k = await createLeanApi({ kind: 'kubeconfig', path: kc, description: 'test' }, 2000);
  t.after(() => k.close?.());
  const r = await drainNode(k, 'n4', { timeoutMs: 10_000, retryMs: 1_000, clock: systemClock, log: silentLogger() });
  assert.equal(r.timedOut, false);
  assert.deepEqual(left(), expectedLeft, r.skipped.join('; '));
  assert.deepEqual(r.emptyDirLeft, [], 'a finished pod never needs deleteEmptyDirData');

  // Same pods again; kubectl without --force or --delete-emptydir-data proceeds and evicts the same ones.
  seedAll();
  const before = api.requests.length;
  const kd = await kubectl('drain', 'n4', '--ignore-daemonsets', '--timeout=20s');
  assert.equal(kd.code, 0, kd.err);
  assert.deepEqual(left(), expectedLeft, kd.out + kd.err);
  const kubectlEvicted = api.requests
    .slice(before)
    .filter((x) => x.path.endsWith('/eviction') && x.status === 201)
    .map((x) => x.path.split('/').at(-2))
    .sort();
  assert.deepEqual(kubectlEvicted, r.evicted.map((x) => x.split('/')[1]).sort(), 'both evict exactly the same pods');
});

test('DELETE: kubectl delete works; a protobuf DeleteOptions body is read and discarded', async () => {
  seedPod(api, 'default', 'tmp', 'n1');
  const r = await kubectl('delete', 'pod', 'tmp', '--wait=false');
  assert.equal(r.code, 0, r.err);
  assert.equal(api.store.get('pods', 'default', 'tmp'), undefined);
  // kubectl's drain fallback sends DeleteOptions as protobuf ("k8s\0" magic + envelope); the server must not choke on it.
  seedPod(api, 'default', 'tmp2', 'n1');
  const body = Buffer.concat([Buffer.from('k8s\0', 'binary'), Buffer.from([0x0a, 0x0f, 0x0a, 0x02, 0x76, 0x31, 0x12, 0x0d]), Buffer.from('DeleteOptions')]);
  const res = await fetch(`${api.url}/api/v1/namespaces/default/pods/tmp2`, {
    method: 'DELETE',
    headers: { 'content-type': 'application/vnd.kubernetes.protobuf' },
    body,
  });
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { metadata: { name: string } }).metadata.name, 'tmp2');
  assert.equal(api.store.get('pods', 'default', 'tmp2'), undefined);
});

test('what the agent writes is what kubectl shows: selector, taints, condition, events (describe)', async (t) => {
  const { startHarness, settle, waitFor } = await import('../../support/k8s-harness.ts');
  const h = await startHarness(['edge-1', 'edge-2']);
  t.after(() => h.close());
  const a = await h.agent('edge-1');
  a.emit('degraded', 3);
  await waitFor('degraded', () => h.node('edge-1').labels['linkward.io/link-state'] === 'degraded');
  await settle(h.api);
  const saved = kc;
  kc = h.kubeconfig;
  try {
    const sel = await kubectl('get', 'nodes', '-l', 'linkward.io/link-state=degraded', '-o', 'name');
    assert.equal(sel.out.trim(), 'node/edge-1');
    const d = await kubectl('describe', 'node', 'edge-1');
    assert.equal(d.code, 0, d.err);
    if (process.env.K8S_SHOW) console.log(d.out);
    assert.match(d.out, /Taints:\s+linkward.io\/link=degraded:PreferNoSchedule/);
    assert.match(d.out, /NetworkDegraded\s+True/);
    assert.match(d.out, /LinkDegraded/);
    assert.match(d.out, /Warning\s+LinkDegraded/, 'the transition Event is listed');
  } finally {
    kc = saved;
  }
});

test('kubectl get -w on one node (field selector): list, then watch events; a too-old resourceVersion is 410 Expired', async () => {
  const { spawn } = await import('node:child_process');
  const child = spawn(KUBECTL, ['--kubeconfig', kc, 'get', 'nodes', '--field-selector', 'metadata.name=n1', '-w', '--output-watch-events', '-o', 'json'], {
    env: { ...process.env, LC_ALL: 'C', HOME: '/tmp' },
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  try {
    const until = async (re: RegExp): Promise<void> => {
      for (let i = 0; i < 300 && !re.test(out); i++) await new Promise((r) => setTimeout(r, 20));
      assert.match(out, re);
    };
    // -o json with --output-watch-events: one {"type","object"} document per line.
    const events = (): string[] =>
      out
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { type: string; object: { metadata: { name: string } } })
        .map((e) => `${e.type} ${e.object.metadata.name}`);
    await until(/"type":"ADDED"/);
    assert.deepEqual(events(), ['ADDED n1']);
    assert.equal((await kubectl('label', 'node', 'n1', 'watched=yes')).code, 0);
    assert.equal((await kubectl('label', 'node', 'n2', 'watched=yes')).code, 0);
    await until(/"watched":"yes"/);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(events(), ['ADDED n1', 'MODIFIED n1'], 'the field selector keeps n2 out of the watch');
  } finally {
    child.kill();
  }
  assert.equal((await kubectl('label', 'node', 'n1', 'n2', 'watched-')).code, 0);
  // The raw stream for an expired resourceVersion: HTTP 200, one ERROR event with a 410 Status (what client-go re-lists on).
  api.store.compact();
  const raw = await kubectl('get', '--raw', '/api/v1/nodes?watch=true&resourceVersion=1&fieldSelector=metadata.name%3Dn1&allowWatchBookmarks=true');
  assert.equal(raw.code, 0, raw.err);
  const ev = JSON.parse(raw.out.trim()) as { type: string; object: { code: number; reason: string } };
  assert.deepEqual([ev.type, ev.object.code, ev.object.reason], ['ERROR', 410, 'Expired']);
});
