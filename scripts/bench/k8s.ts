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
  const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', `${code}\nglobalThis.gc(); await new Promise(r=>setTimeout(r,200)); globalThis.gc(); console.log(process.memoryUsage().rss)`], { cwd: dir, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  return Math.round((Number(out.trim().split('\n').pop()) / 2 ** 20) * 10) / 10;
}

// Production runs an esbuild bundle, so measure bundles (type stripping of .ts sources adds ~18 MB that production never pays).
const tmp = mkdtempSync(join(tmpdir(), 'k8s-bench-'));
const banner = "import { createRequire as __c } from 'node:module'; const require = __c(import.meta.url);";
await build({ entryPoints: [join(root, 'agent/k8s/component.ts')], outfile: join(tmp, 'component.mjs'), bundle: true, platform: 'node', format: 'esm', external: ['@kubernetes/client-node', 'better-sqlite3'], banner: { js: banner }, logLevel: 'warning' });
await build({ entryPoints: [join(root, 'agent/k8s/client-node-api.ts')], outfile: join(tmp, 'client.mjs'), bundle: true, platform: 'node', format: 'esm', external: ['@kubernetes/client-node'], banner: { js: banner }, logLevel: 'warning' });
await build({ entryPoints: [join(root, 'agent/k8s/lean-api.ts')], outfile: join(tmp, 'lean.mjs'), bundle: true, platform: 'node', format: 'esm', banner: { js: banner }, logLevel: 'warning' });
await build({ entryPoints: [join(root, 'agent/k8s/component.ts')], outfile: join(tmp, 'component-inlined.mjs'), bundle: true, platform: 'node', format: 'esm', external: ['better-sqlite3'], banner: { js: banner }, logLevel: 'warning' });
symlinkSync(join(root, 'node_modules'), join(tmp, 'node_modules'));
const kc = join(tmp, 'kubeconfig');
const fake = `import { createServer } from 'node:http'; import { writeFileSync } from 'node:fs';
const srv = createServer((q, s) => { s.writeHead(200, { 'content-type': 'application/json' }); s.end(JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', resourceVersion: '1' } })); });
await new Promise((r) => srv.listen(0, '127.0.0.1', r)); srv.unref();
writeFileSync(${JSON.stringify(kc)}, \`apiVersion: v1\\nkind: Config\\nclusters:\\n- name: t\\n  cluster: {server: "http://127.0.0.1:\${srv.address().port}", insecure-skip-tls-verify: true}\\nusers:\\n- name: t\\n  user: {token: x}\\ncontexts:\\n- name: t\\n  context: {cluster: t, user: t}\\ncurrent-context: t\\n\`);`;
const base = rss('');
const comp = rss(`await import('./component.mjs');`, tmp);
const withClient = rss(`${fake}\nawait import('./component.mjs'); const { createClientNodeApi } = await import('./client.mjs');
const api = await createClientNodeApi({ kind: 'kubeconfig', path: ${JSON.stringify(kc)}, description: 'bench' }, 2000); await api.getNode('n1');`, tmp);
const withLean = rss(`${fake}\nawait import('./component.mjs'); const { createLeanApi } = await import('./lean.mjs');
const api = await createLeanApi({ kind: 'kubeconfig', path: ${JSON.stringify(kc)}, description: 'bench' }, 2000); await api.getNode('n1');`, tmp);
const inlined = rss(`await import('./component-inlined.mjs');`, tmp);
rmSync(tmp, { recursive: true, force: true });
emit('rss_node_baseline', base, 'MiB', 'empty node process');
emit('rss_component_bundle', comp, 'MiB', 'node component bundle (prom-client incl.), client-node external, not loaded');
emit('rss_with_client_node', withClient, 'MiB', '+ @kubernetes/client-node loaded, CoreV1/CoordinationV1 clients, one GET');
emit('rss_client_node_delta', Math.round((withClient - comp) * 10) / 10, 'MiB', 'cost of node actions with kubernetes.client: client-node');
emit('rss_with_lean', withLean, 'MiB', '+ lean undici client (kubernetes.client: lean/auto), one GET');
emit('rss_lean_delta', Math.round((withLean - comp) * 10) / 10, 'MiB', 'cost of node actions with the lean client');
emit('rss_component_inlined', inlined, 'MiB', 'client-node bundled in (lazy import, never called): parse cost paid anyway');

// Steady state over one simulated hour, for a healthy and a degraded node.
for (const state of ['healthy', 'degraded'] as const) {
  const h = await startHarness(['n1']);
  const a = await h.agent('n1');
  a.emit(state, 42);
  await waitFor('applied', () => h.node('n1').labels[LABEL_LINK_STATE] === state);
  await settle(h.api);
  const w0 = h.api.writes().length;
  const r0 = h.api.requests.length;
  for (let i = 0; i < 720; i++) {
    h.clock.advance(5_000);
    a.emit(state, 40 + (i % 6));
    if (i % 12 === 11) await settle(h.api);
  }
  await settle(h.api);
  const writes = h.api.writes().length - w0;
  emit(`steady_${state}_writes_per_hour`, writes, 'writes/h', 'snapshots every 5 s, resync 60 s, heartbeat 300 s');
  emit(`steady_${state}_reads_per_hour`, h.api.requests.length - r0 - writes, 'reads/h', 'node GETs (resync + heartbeat passes)');
  await h.close();
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

process.stdout.write('\n' + ['figure'.padEnd(34) + 'value'.padEnd(16) + 'note', ...rows.map((r) => r.figure.padEnd(34) + r.value.padEnd(16) + r.note)].join('\n') + '\n');
