/** Node-actions benchmark: RSS cost of the Kubernetes client, API requests per simulated hour, reconcile latency. */
// Usage: node scripts/bench/k8s.ts   (prints JSON lines, then a table)
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { build } from 'esbuild';
import { settle, startHarness, waitFor } from '../../test/support/k8s-harness.ts';
import { LABEL_LINK_STATE } from '../../agent/k8s/types.ts';

const root = resolve(import.meta.dirname, '..', '..');
const rows: { figure: string; value: string; note: string }[] = [];
function emit(figure: string, value: number | string, unit: string, note = ''): void {
  process.stdout.write(JSON.stringify({ bench: 'k8s', figure, value, unit, note }) + '\n');
  rows.push({ figure, value: `${value} ${unit}`, note });
}

/** RSS (MiB, after two GCs) of a fresh Node process running ESM `code` (cwd = `dir`). */
function rss(code: string, dir = root): number {
  const out = execFileSync(
    process.execPath,
    [
      '--expose-gc',
      '--input-type=module',
      '-e',
      `${code}\nglobalThis.gc(); await new Promise(r=>setTimeout(r,200)); globalThis.gc(); console.log(process.memoryUsage().rss)`,
    ],
    { cwd: dir, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } },
  );
  return Math.round((Number(out.trim().split('\n').pop()) / 2 ** 20) * 10) / 10;
}

// Production runs an esbuild bundle, so measure bundles (type stripping of .ts sources adds ~18 MB that production never pays).
const tmp = mkdtempSync(join(tmpdir(), 'k8s-bench-'));
const banner = "import { createRequire as __c } from 'node:module'; const require = __c(import.meta.url);";
await build({
  entryPoints: [join(root, 'agent/k8s/component.ts')],
  outfile: join(tmp, 'component.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  external: ['@kubernetes/client-node', 'better-sqlite3'],
  banner: { js: banner },
  logLevel: 'warning',
});
await build({
  entryPoints: [join(root, 'agent/k8s/client-node-api.ts')],
  outfile: join(tmp, 'client.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  external: ['@kubernetes/client-node'],
  banner: { js: banner },
  logLevel: 'warning',
});
await build({
  entryPoints: [join(root, 'agent/k8s/lean-api.ts')],
  outfile: join(tmp, 'lean.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  banner: { js: banner },
  logLevel: 'warning',
});
await build({
  entryPoints: [join(root, 'agent/k8s/component.ts')],
  outfile: join(tmp, 'component-inlined.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  external: ['better-sqlite3'],
  banner: { js: banner },
  logLevel: 'warning',
});
symlinkSync(join(root, 'node_modules'), join(tmp, 'node_modules'));
const kc = join(tmp, 'kubeconfig');
const fake = `import { createServer } from 'node:http'; import { writeFileSync } from 'node:fs';
const srv = createServer((q, s) => { s.writeHead(200, { 'content-type': 'application/json' }); s.end(JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', resourceVersion: '1' } })); });
await new Promise((r) => srv.listen(0, '127.0.0.1', r)); srv.unref();
writeFileSync(${JSON.stringify(kc)}, \`apiVersion: v1\\nkind: Config\\nclusters:\\n- name: t\\n  cluster: {server: "http://127.0.0.1:\${srv.address().port}", insecure-skip-tls-verify: true}\\nusers:\\n- name: t\\n  user: {token: x}\\ncontexts:\\n- name: t\\n  context: {cluster: t, user: t}\\ncurrent-context: t\\n\`);`;
const base = rss('');
const comp = rss(`await import('./component.mjs');`, tmp);
const withClient = rss(
  `${fake}\nawait import('./component.mjs'); const { createClientNodeApi } = await import('./client.mjs');
const api = await createClientNodeApi({ kind: 'kubeconfig', path: ${JSON.stringify(kc)}, description: 'bench' }, 2000); await api.getNode('n1');`,
  tmp,
);
const withLean = rss(
  `${fake}\nawait import('./component.mjs'); const { createLeanApi } = await import('./lean.mjs');
const api = await createLeanApi({ kind: 'kubeconfig', path: ${JSON.stringify(kc)}, description: 'bench' }, 2000); await api.getNode('n1');`,
  tmp,
);
const inlined = rss(`await import('./component-inlined.mjs');`, tmp);
rmSync(tmp, { recursive: true, force: true });
emit('rss_node_baseline', base, 'MiB', 'empty node process');
emit('rss_component_bundle', comp, 'MiB', 'node component bundle (prom-client incl.), client-node external, not loaded');
emit('rss_with_client_node', withClient, 'MiB', '+ @kubernetes/client-node loaded, CoreV1/CoordinationV1 clients, one GET');
emit('rss_client_node_delta', Math.round((withClient - comp) * 10) / 10, 'MiB', 'cost of node actions with kubernetes.client: client-node');
emit('rss_with_lean', withLean, 'MiB', '+ lean undici client (kubernetes.client: lean/auto), one GET');
emit('rss_lean_delta', Math.round((withLean - comp) * 10) / 10, 'MiB', 'cost of node actions with the lean client');
emit('rss_component_inlined', inlined, 'MiB', 'client-node bundled in (lazy import, never called): parse cost paid anyway');

// API requests per node: one simulated hour in steady state, per transition, during an outage. Snapshots every 5 s,
// a bookmark each simulated minute (kube-apiserver sends one about every minute), default config otherwise.
type Req = { method: string; path: string };
function kinds(reqs: Req[]): Record<string, number> {
  const k = { nodeReads: 0, watch: 0, nodeWrites: 0, fleetList: 0, lease: 0, events: 0, other: 0 };
  for (const r of reqs) {
    if (r.path.endsWith('?watch')) k.watch++;
    else if (r.method === 'GET' && /^\/api\/v1\/nodes\/[^/]+$/.test(r.path)) k.nodeReads++;
    else if (r.method === 'GET' && r.path === '/api/v1/nodes')
      k.fleetList++; // the fleet's list and the watcher's field-selector list share this path
    else if (r.path.startsWith('/api/v1/nodes/')) k.nodeWrites++;
    else if (r.path.includes('/leases')) k.lease++;
    else if (r.path.includes('/events')) k.events++;
    else k.other++;
  }
  return k;
}
async function simulate(
  h: Awaited<ReturnType<typeof startHarness>>,
  a: { emit(s: 'healthy' | 'degraded' | 'down', m?: number): void },
  state: 'healthy' | 'degraded' | 'down',
  minutes: number,
): Promise<void> {
  for (let i = 0; i < minutes * 12; i++) {
    h.clock.advance(5_000);
    a.emit(state, state === 'healthy' ? 40 + (i % 6) : state === 'degraded' ? 3 : 0.2);
    if (i % 12 === 11) {
      h.api.bookmark();
      await settle(h.api);
    }
  }
  await settle(h.api);
}
const perNodeHour: Record<string, number> = {};
for (const client of ['lean', 'client-node'] as const) {
  for (const state of ['healthy', 'degraded', 'down'] as const) {
    const h = await startHarness(['n1', 'n2', 'n3', 'n4']);
    const a = await h.agent('n1', { client, tiers: { down: { cordon: true } } });
    a.emit(state, state === 'healthy' ? 42 : state === 'degraded' ? 3 : 0.2);
    await waitFor('applied', () => h.node('n1').labels[LABEL_LINK_STATE] === state);
    await settle(h.api);
    const r0 = h.api.requests.length;
    await simulate(h, a, state, 60);
    const reqs = h.api.requests.slice(r0);
    const k = kinds(reqs);
    perNodeHour[`${client}_${state}`] = reqs.length;
    const note = state === 'down' ? 'cordon + fleet hold (Lease renewed every TTL/3 = 200 s)' : state === 'degraded' ? 'PreferNoSchedule taint' : '';
    emit(`steady_${state}_${client}_requests_per_hour`, reqs.length, 'req/h', `${JSON.stringify(k)} ${note}`.trim());
    await h.close();
  }
}
// A capped node (fleet full) asks again with backoff (≤ 10 min): each ask lists the fleet's Nodes and reads the Lease.
{
  const h = await startHarness(['n1', 'n2']);
  const fleet = { maxUnavailable: 1 };
  const a1 = await h.agent('n1', { fleet, tiers: { down: { cordon: true } } });
  a1.emit('down', 0.2);
  await waitFor('n1 cordoned', () => h.node('n1').unschedulable);
  const a2 = await h.agent('n2', { fleet, tiers: { down: { cordon: true } } });
  a2.emit('down', 0.2);
  await waitFor('n2 labelled', () => h.node('n2').labels[LABEL_LINK_STATE] === 'down');
  await settle(h.api);
  const r0 = h.api.requests.length;
  for (let i = 0; i < 720; i++) {
    h.clock.advance(5_000);
    a1.emit('down', 0.2);
    a2.emit('down', 0.2);
    if (i % 12 === 11) {
      h.api.bookmark();
      await settle(h.api);
    }
  }
  await settle(h.api);
  const k = kinds(h.api.requests.slice(r0));
  emit(
    'steady_two_nodes_one_capped_requests_per_hour',
    h.api.requests.length - r0,
    'req/h',
    `${JSON.stringify(k)} (both agents; the capped one re-asks with backoff, each ask = fleet list + Lease GET)`,
  );
  await h.close();
}
// Per transition: requests from one snapshot with a new state until the API traffic settles (lean client).
{
  const h = await startHarness(['n1', 'n2', 'n3', 'n4']);
  const a = await h.agent('n1', { tiers: { down: { cordon: true } } });
  a.emit('healthy', 42);
  await waitFor('healthy', () => h.node('n1').labels[LABEL_LINK_STATE] === 'healthy');
  await settle(h.api);
  for (const [from, to, mbps] of [
    ['healthy', 'degraded', 3],
    ['degraded', 'down', 0.2],
    ['down', 'healthy', 42],
  ] as const) {
    const r0 = h.api.requests.length;
    a.emit(to, mbps);
    await waitFor(to, () => h.node('n1').labels[LABEL_LINK_STATE] === to);
    await settle(h.api);
    const reqs = h.api.requests.slice(r0);
    emit(`transition_${from}_to_${to}_requests`, reqs.length, 'req', JSON.stringify(kinds(reqs)));
  }
  await h.close();
}
// A 10-minute outage (503 on everything): requests sent, and simulated time until the Node shows the new state.
{
  const h = await startHarness(['n1']);
  const a = await h.agent('n1', { tiers: { down: { cordon: true } } });
  a.emit('healthy', 42);
  await waitFor('healthy', () => h.node('n1').labels[LABEL_LINK_STATE] === 'healthy');
  await settle(h.api);
  const r0 = h.api.requests.length;
  h.api.faults = [{ status: 503 }];
  for (let i = 0; i < 120; i++) {
    h.clock.advance(5_000);
    a.emit('down', 0.2);
    await new Promise((r) => setTimeout(r, 10));
  }
  await settle(h.api);
  emit('outage_10min_503_requests', h.api.requests.length - r0, 'req', 'jitter pinned at 0.5 → ~15 s between probes once capped (maxBackoffMs 30 s)');
  h.api.faults = [];
  const back = h.clock.nowMs();
  for (let i = 0; i < 60 && !h.node('n1').unschedulable; i++) {
    h.clock.advance(1_000);
    await new Promise((r) => setTimeout(r, 20));
  }
  emit('outage_10min_503_recovery', (h.clock.nowMs() - back) / 1000, 's', 'simulated time from the API answering to the node cordoned');
  await h.close();
}
// Extrapolation to 10,000 nodes next to the kubelet's own load on the API server.
{
  const N = 10_000;
  const kubeletPerHour = 3600 / 300 + 3600 / 10; // NodeStatus PATCH every 5 min (nodeStatusReportFrequency) + Lease renew every 10 s
  const perSec = (perNodePerHour: number): number => Math.round((perNodePerHour * N) / 3600);
  emit('kubelet_requests_per_node_hour', kubeletPerHour, 'req/h', 'NodeStatus every 5 min (12) + node Lease renewal every 10 s (360)');
  emit('fleet_10k_kubelet', perSec(kubeletPerHour), 'req/s', `${N} kubelets`);
  for (const [key, v] of Object.entries(perNodeHour))
    emit(
      `fleet_10k_linkward_steady_${key}`,
      perSec(v),
      'req/s',
      `${N} agents, all ${key.split('_').pop()}; ${Math.round((v / kubeletPerHour) * 1000) / 10} % of the kubelets' load`,
    );
}

// Reconcile latency (real time): link snapshot → Node patched on the test API server, 40 alternating transitions.
{
  const h = await startHarness(['n1']);
  const a = await h.agent('n1');
  const lat: number[] = [];
  for (let i = 0; i < 40; i++) {
    const state = i % 2 === 0 ? 'degraded' : 'healthy';
    const t0 = performance.now();
    a.emit(state, 3);
    await waitFor('applied', () => h.node('n1').labels[LABEL_LINK_STATE] === state, 5000);
    lat.push(performance.now() - t0);
    await settle(h.api);
  }
  lat.sort((x, y) => x - y);
  emit('reconcile_latency_p50', Math.round(lat[Math.floor(lat.length / 2)] ?? 0), 'ms', 'snapshot → patched Node, loopback API');
  emit('reconcile_latency_max', Math.round(lat[lat.length - 1] ?? 0), 'ms', '');
  await h.close();
}

// API outage: how long after the API answers again the desired state lands (simulated clock, 1 s steps).
{
  const results: number[] = [];
  for (const outageMin of [1, 10, 60]) {
    const h = await startHarness(['n1']);
    const a = await h.agent('n1');
    a.emit('healthy');
    await waitFor('healthy', () => h.node('n1').labels[LABEL_LINK_STATE] === 'healthy');
    await settle(h.api);
    await h.api.goOffline();
    a.emit('down', 0.1);
    for (let s = 0; s < outageMin * 12; s++) {
      h.clock.advance(5_000);
      await new Promise((r) => setTimeout(r, 2));
    }
    await h.api.start();
    const back = h.clock.nowMs();
    for (let i = 0; i < 60 && h.node('n1').labels[LABEL_LINK_STATE] !== 'down'; i++) {
      h.clock.advance(1_000);
      await new Promise((r) => setTimeout(r, 20));
    }
    const took = (h.clock.nowMs() - back) / 1000;
    results.push(took);
    emit(`recovery_after_${outageMin}min_outage`, took, 's', 'simulated time until the Node shows the desired state (cap 30 s)');
    await h.close();
  }
}

process.stdout.write(
  '\n' + ['figure'.padEnd(34) + 'value'.padEnd(16) + 'note', ...rows.map((r) => r.figure.padEnd(34) + r.value.padEnd(16) + r.note)].join('\n') + '\n',
);
