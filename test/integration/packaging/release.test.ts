/** scripts/release.mjs: the tarball is self-contained — extracted away from the repo, its own Node runs the CLI and the daemon. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { request } from 'undici';
import { startNotifyReceiver } from '../../support/notify-receiver.ts';
import { DROPIN_DIR, INSTALL_PREFIX, REPO_ROOT, UNIT_PATH, ensureBundle, nodeFlags, unitValue } from './fixtures.ts';
import { cleanEnv, runCli, startTreeDaemon, waitForMallocTrim } from './tree-daemon.ts';
import { KubeApiServer } from '../../support/kube-apiserver/server.ts';
import { writeKubeconfig } from '../../support/kube-apiserver/kubeconfig.ts';
import { seedNode } from '../../support/kube-apiserver/fixtures.ts';

/** Packing ~125 MB (mostly the Node binary) takes ~5 s here; shared CI cores get more. */
const RELEASE_TIMEOUT_MS = 120_000;
/** The Node binary alone is ~43 MB gzipped; anything far above means node_modules or sources leaked in. */
const MAX_TARBALL_MIB = 60;

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
let work = '';
let tarball = '';
let tree = '';

before(() => {
  ensureBundle();
  work = mkdtempSync(join(tmpdir(), 'lw-release-test-'));
  // --no-build: package the bundle as it is; rebuilding dist/ under other engineers' running tests is not this test's job.
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'release.mjs'), '--no-build', '--out-dir', join(work, 'out')], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: RELEASE_TIMEOUT_MS,
  });
  assert.equal(r.status, 0, `release.mjs failed: ${r.stdout}${r.stderr}`);
  const arch = { x64: 'x64', arm64: 'arm64', arm: 'armv7l' }[process.arch as string] ?? process.arch;
  tarball = join(work, 'out', `linkward-${pkg.version}-linux-${arch}.tar.gz`);
  assert.ok(existsSync(tarball), `expected ${tarball}; release printed: ${r.stdout}`);
  mkdirSync(join(work, 'x'));
  const x = spawnSync('tar', ['-xzf', tarball, '-C', join(work, 'x')], { encoding: 'utf8' });
  assert.equal(x.status, 0, x.stderr);
  tree = join(work, 'x', `linkward-${pkg.version}-linux-${arch}`);
});
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the tarball has the documented layout and a sane size', (t) => {
  const mib = statSync(tarball).size / 1024 / 1024;
  t.diagnostic(`tarball ${mib.toFixed(1)} MiB`);
  assert.ok(mib > 20 && mib < MAX_TARBALL_MIB, `tarball is ${mib.toFixed(1)} MiB`);
  for (const f of [
    'node',
    'dist/linkward.mjs',
    'dist/kube-client.mjs',
    'node_modules/better-sqlite3/prebuilds/linux-x64.node',
    'node_modules/better-sqlite3/lib/index.js',
    'agent/native/build/Release/lw_native.node',
    'systemd/linkward.service',
    'install.sh',
    'uninstall.sh',
    'config.example.yaml',
    'docs/OPERATIONS.md',
    'VERSION',
  ]) {
    assert.ok(existsSync(join(tree, f)), `missing ${f}`);
  }
  assert.ok(statSync(join(tree, 'node')).mode & 0o111, 'node is executable');
  assert.ok(statSync(join(tree, 'install.sh')).mode & 0o111, 'install.sh is executable');
  assert.deepEqual(readdirSync(join(tree, 'node_modules')).sort(), ['better-sqlite3']);
  assert.equal(readFileSync(join(tree, 'systemd', 'linkward.service'), 'utf8'), readFileSync(UNIT_PATH, 'utf8'));
  assert.equal(readFileSync(join(tree, 'VERSION'), 'utf8').trim(), pkg.version);
});

test("every absolute path in the unit's ExecStart exists in the tree once installed at /usr/lib/linkward", () => {
  const exec = unitValue(readFileSync(UNIT_PATH, 'utf8'), 'Service', 'ExecStart') ?? '';
  const paths = exec.split(/\s+/).filter((w) => w.startsWith(INSTALL_PREFIX));
  assert.ok(paths.length >= 2, exec);
  for (const p of paths) assert.ok(existsSync(join(tree, p.slice(INSTALL_PREFIX.length))), `${p} not in the release`);
});

test('the packaged Node runs the CLI with no access to the repo', () => {
  const v = runCli(tree, ['version', '--json']);
  assert.equal(v.status, 0, v.stderr);
  const doc = JSON.parse(v.stdout) as { version: string; node: string };
  assert.equal(doc.version, pkg.version);
  assert.match(doc.node, /^24\./);
  // better-sqlite3 resolves inside the tree (not from the repo's node_modules).
  const where = spawnSync(join(tree, 'node'), ['-p', `require.resolve('better-sqlite3', { paths: [${JSON.stringify(join(tree, 'dist'))}] })`], {
    cwd: tree,
    env: cleanEnv(tree),
    encoding: 'utf8',
  });
  assert.equal(where.status, 0, where.stderr);
  assert.equal(where.stdout.trim(), join(tree, 'node_modules', 'better-sqlite3', 'lib', 'index.js'));
  const cfg = runCli(tree, ['config', 'validate', join(tree, 'config.example.yaml')]);
  assert.equal(cfg.status, 0, `${cfg.stdout}${cfg.stderr}`);
});

test('the Node flags of the unit and of the drop-in example are accepted by the packaged Node', () => {
  for (const file of [UNIT_PATH, join(DROPIN_DIR, '10-node-flags.conf.example')]) {
    const flags = nodeFlags(readFileSync(file, 'utf8'));
    assert.ok(flags && flags.length > 0, `no LINKWARD_NODE_FLAGS in ${file}`);
    const r = spawnSync(join(tree, 'node'), [...flags, join(tree, 'dist', 'linkward.mjs'), 'version'], {
      cwd: tree,
      env: cleanEnv(tree),
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 0, `${flags.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr, '', `${flags.join(' ')} printed warnings: ${r.stderr}`);
    assert.match(r.stdout, /^linkward \d+\.\d+\.\d+ \(node 24\./);
    // undici's HTTP parser is WebAssembly: flags that remove it (--jitless, --lite-mode) break the forwarder and node actions
    const wasm = spawnSync(join(tree, 'node'), [...flags, '-e', "process.exit(typeof WebAssembly === 'object' ? 0 : 3)"], {
      env: cleanEnv(tree),
      timeout: 30_000,
    });
    assert.equal(wasm.status, 0, `${flags.join(' ')} leave no WebAssembly (file ${file})`);
  }
});

test('the daemon runs from the extracted tree: /healthz, state.db via better-sqlite3, sd_notify addon, SIGTERM → 0', async (t) => {
  const rx = await startNotifyReceiver();
  t.after(() => {
    rx.close();
    // The shared receiver leaves its socket directory behind; remove it here.
    rmSync(dirname(rx.path), { recursive: true, force: true });
  });
  const stateDir = join(work, 'run', 'state');
  mkdirSync(join(work, 'run'));
  const d = await startTreeDaemon(tree, stateDir, cleanEnv(tree, { NOTIFY_SOCKET: rx.path }));
  t.after(() => d.kill());
  const h = await request(`${d.baseUrl}/healthz`);
  assert.equal(h.statusCode, 200);
  assert.equal((JSON.parse(await h.body.text()) as { status: string }).status, 'ok');
  assert.ok(statSync(join(stateDir, 'state.db')).size > 0, 'state.db written by better-sqlite3');
  const ready = await rx.waitFor('READY=1', 5_000);
  assert.match(ready, new RegExp(`MAINPID=${d.child.pid}`));
  assert.ok(!d.logs.some((l) => /addon not built/.test(String(l.msg))), 'lw_native.node found next to the bundle');
  assert.ok((await waitForMallocTrim(d.baseUrl)) > 0, "the addon's malloc trim runs");
  d.child.kill('SIGTERM');
  assert.equal(await d.exited, 0);
});

test('the full Kubernetes client loads from the tree (no node_modules/@kubernetes): kubernetes.client: client-node talks to the API', async (t) => {
  const api = new KubeApiServer();
  await api.start();
  t.after(() => api.stop());
  seedNode(api, 'edge-kc');
  const kubeconfig = writeKubeconfig(api.url);
  mkdirSync(join(work, 'kc'));
  const extra = `node:\n  name: edge-kc\nkubernetes:\n  client: client-node\n  kubeconfig: ${JSON.stringify(kubeconfig)}\n  requestTimeoutMs: 2000\n`;
  const d = await startTreeDaemon(tree, join(work, 'kc', 'state'), cleanEnv(tree), [], extra);
  t.after(() => d.kill());
  const deadline = Date.now() + 15_000;
  // The agent reads its Node by listing it (field selector), then watches it; a list's path has no name in it.
  const readIt = (r: { path: string; status: number }): boolean =>
    r.status === 200 && (r.path === '/api/v1/nodes' || r.path === '/api/v1/nodes?watch' || r.path.startsWith('/api/v1/nodes/edge-kc'));
  while (Date.now() < deadline && !api.requests.some(readIt)) await new Promise((r) => setTimeout(r, 100));
  const failed = d.logs.find((l) => /cannot create the Kubernetes client/.test(String(l.msg)));
  assert.equal(failed, undefined, `client-node did not load from the tree: ${JSON.stringify(failed)}`);
  assert.ok(api.requests.some(readIt), `the agent read its Node through client-node; requests: ${JSON.stringify(api.requests.slice(0, 5))}`);
});
