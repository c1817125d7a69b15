/** scripts/image.mjs: an OCI image built by umoci (no daemon, no registry) whose unpacked rootfs runs the agent. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onJsonLines } from '../../support/json-lines.ts';
import { REPO_ROOT, ensureBundle, requireTool } from './fixtures.ts';
import { unitFlags } from '../../../scripts/bench/unit-runtime.mjs';

/** Stage + image + unpack: ~10 s here (umoci gzips ~130 MB once). */
const STEP_TIMEOUT_MS = 180_000;
/** Start-to-ready is under 1 s natively; 20 s for a loaded CI machine. */
const READY_TIMEOUT_MS = 20_000;
const NONROOT = '65532';
const work = mkdtempSync(join(tmpdir(), 'lw-image-test-'));
const layout = join(work, 'oci');
const rootfs = join(work, 'unpacked', 'rootfs');
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
/** chroot runs with nothing from this machine's environment. */
const ENV = { PATH: '/usr/bin:/usr/lib/linkward', LC_ALL: 'C' };

const blob = (digest: string): Record<string, unknown> => JSON.parse(readFileSync(join(layout, 'blobs', ...digest.split(':')), 'utf8')) as Record<string, unknown>;

before(() => {
  requireTool('umoci', ['--version'], 'umoci');
  ensureBundle();
  const tree = join(work, 'tree');
  execFileSync(process.execPath, [join(REPO_ROOT, 'scripts', 'release.mjs'), '--no-build', '--stage', tree], { cwd: REPO_ROOT, timeout: STEP_TIMEOUT_MS, stdio: 'ignore' });
  execFileSync(process.execPath, [join(REPO_ROOT, 'scripts', 'image.mjs'), '--tree', tree, '--out', layout], { cwd: REPO_ROOT, timeout: STEP_TIMEOUT_MS, stdio: 'ignore' });
  execFileSync('umoci', ['unpack', '--image', `${layout}:${pkg.version}`, join(work, 'unpacked')], { timeout: STEP_TIMEOUT_MS, stdio: 'ignore' });
});
after(() => rmSync(work, { recursive: true, force: true }));

test('the OCI layout has one tagged amd64 manifest: non-root user, the unit\'s Node flags, `run` by default', (t) => {
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
  const m = index.manifests.find((x) => x.annotations?.['org.opencontainers.image.ref.name'] === pkg.version);
  assert.ok(m, `tag ${pkg.version} in index.json`);
  const manifest = blob(m.digest) as { config: { digest: string }; layers: { size: number }[] };
  const config = blob(manifest.config.digest) as { architecture: string; os: string; config: { User: string; Entrypoint: string[]; Cmd: string[] } };
  assert.equal(config.architecture, 'amd64');
  assert.equal(config.os, 'linux');
  assert.equal(config.config.User, `${NONROOT}:${NONROOT}`);
  assert.deepEqual(config.config.Entrypoint, ['/usr/lib/linkward/node', ...unitFlags(), '/usr/lib/linkward/dist/linkward.mjs']);
  assert.deepEqual(config.config.Cmd, ['run']);
  const mib = manifest.layers.reduce((n, l) => n + l.size, 0) / 1048576;
  t.diagnostic(`image layers ${mib.toFixed(1)} MiB compressed`);
  assert.ok(mib > 20 && mib < 80, `${mib.toFixed(1)} MiB`);
  assert.ok(!existsSync(join(rootfs, 'bin', 'sh')) && !existsSync(join(rootfs, 'usr', 'bin', 'sh')), 'no shell in the image');
});

test('the CLI runs in the unpacked rootfs as the non-root user, without a shell', () => {
  const r = spawnSync('/usr/sbin/chroot', [`--userspec=${NONROOT}:${NONROOT}`, rootfs, '/usr/bin/linkward', 'config', 'validate', '/etc/linkward/config.yaml'], { encoding: 'utf8', env: ENV, timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr + r.stdout);
});

test('the entrypoint runs the daemon in the rootfs as non-root; /healthz answers 200', async () => {
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const manifest = blob(index.manifests[0]?.digest ?? '') as { config: { digest: string } };
  const entry = (blob(manifest.config.digest) as { config: { Entrypoint: string[] } }).config.Entrypoint;
  writeFileSync(join(rootfs, 'tmp', 'config.yaml'), 'server:\n  listen: 127.0.0.1:0\nstate:\n  dir: /tmp/state\nkubernetes:\n  enabled: false\nprobes:\n  enabled: false\n', { mode: 0o644 });
  // chroot shares this machine's network namespace, so the loopback listener is reachable from the test.
  const child = spawn('/usr/sbin/chroot', [`--userspec=${NONROOT}:${NONROOT}`, rootfs, ...entry, '--config', '/tmp/config.yaml', 'run'], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((r) => child.on('exit', r));
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  try {
    const base = await new Promise<string>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`not ready: ${stderr}`)), READY_TIMEOUT_MS);
      let listen = '';
      onJsonLines(child.stdout, (rec) => {
        if (rec.msg === 'linkward listening') listen = String(rec.listen);
        if (rec.msg === 'linkward ready') { clearTimeout(timer); res(`http://${listen}`); }
      });
      void exited.then((c) => { clearTimeout(timer); rej(new Error(`exited ${String(c)}: ${stderr}`)); });
    });
    const h = await fetch(`${base}/healthz`);
    assert.equal(h.status, 200);
    assert.ok(existsSync(join(rootfs, 'tmp', 'state', 'state.db')), 'state.db written by the non-root user');
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
});
