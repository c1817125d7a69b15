/** scripts/release.mjs --arch arm64 on this x64 machine: arm64 runtime, prebuild and addon; the tree runs under qemu-user. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startNotifyReceiver } from '../../support/notify-receiver.ts';
import { REPO_ROOT, ensureBundle, requireTool } from './fixtures.ts';
import { cleanEnv, startTreeDaemon, waitForMallocTrim } from './tree-daemon.ts';

/** npm pack (cached after the first run), cross compile, tar and the qemu start check: ~40 s here under qemu. */
const RELEASE_TIMEOUT_MS = 240_000;
/** ELF e_machine of AArch64. */
const EM_AARCH64 = 183;
const QEMU = ['qemu-aarch64-static', '-L', '/usr/aarch64-linux-gnu'];

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
const work = mkdtempSync(join(tmpdir(), 'lw-release-arm64-'));
const name = `linkward-${pkg.version}-linux-arm64`;
let tree = '';
let releaseOut = '';

const elfMachine = (file: string): number => readFileSync(file).subarray(0, 20).readUInt16LE(18);

before(() => {
  requireTool('qemu-aarch64-static', ['--version'], 'qemu-user-static');
  requireTool('aarch64-linux-gnu-gcc', ['--version'], 'gcc-aarch64-linux-gnu');
  ensureBundle();
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'release.mjs'), '--no-build', '--arch', 'arm64', '--out-dir', join(work, 'out')], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: RELEASE_TIMEOUT_MS,
  });
  releaseOut = r.stdout + r.stderr;
  assert.equal(r.status, 0, `release.mjs --arch arm64 failed: ${releaseOut}`);
  mkdirSync(join(work, 'x'));
  execFileSync('tar', ['-xzf', join(work, 'out', `${name}.tar.gz`), '-C', join(work, 'x')]);
  tree = join(work, 'x', name);
});
after(() => rmSync(work, { recursive: true, force: true }));

test('the arm64 tarball carries arm64 code only: node, better-sqlite3 prebuild, sd_notify addon', (t) => {
  const mib = statSync(join(work, 'out', `${name}.tar.gz`)).size / 1048576;
  t.diagnostic(`arm64 tarball ${mib.toFixed(1)} MiB`);
  assert.ok(mib > 20 && mib < 70, `${mib.toFixed(1)} MiB`);
  assert.equal(elfMachine(join(tree, 'node')), EM_AARCH64);
  assert.equal(elfMachine(join(tree, 'node_modules', 'better-sqlite3', 'prebuilds', 'linux-arm64.node')), EM_AARCH64);
  assert.equal(elfMachine(join(tree, 'agent', 'native', 'build', 'Release', 'lw_native.node')), EM_AARCH64);
  assert.deepEqual(readdirSync(join(tree, 'node_modules', 'better-sqlite3', 'prebuilds')), ['linux-arm64.node']);
  assert.match(releaseOut, /arm64 tree starts and answers \/healthz \(ready in \d+ ms under qemu\)/);
  // The same Node version as the pinned x64 runtime, reported by the arm64 binary itself.
  const v = spawnSync('qemu-aarch64-static', [...QEMU.slice(1), join(tree, 'node'), '-p', 'process.arch + " " + process.versions.node'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(v.stdout.trim(), `arm64 ${JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).devDependencies.node}`);
});

/**
 * qemu-user emulates every instruction of the start: 3.1 s on a quiet machine, past 20 s in CI at a load average of 9
 * (2026-12-04). The bound only guards against a hang; how long it took is printed.
 */
const QEMU_READY_TIMEOUT_MS = 90_000;

test('under qemu-user the arm64 daemon starts, serves /healthz, writes state.db and notifies systemd through its addon', async (t) => {
  const rx = await startNotifyReceiver();
  t.after(() => {
    rx.close();
    rmSync(dirname(rx.path), { recursive: true, force: true });
  });
  mkdirSync(join(work, 'run'));
  const t0 = Date.now();
  const d = await startTreeDaemon(
    tree,
    join(work, 'run', 'state'),
    cleanEnv(tree, { NOTIFY_SOCKET: rx.path }),
    QEMU,
    'probes:\n  enabled: false\nkubernetes:\n  enabled: false\n',
    QEMU_READY_TIMEOUT_MS,
  );
  t.after(() => d.kill());
  t.diagnostic(`start to ready under qemu: ${Date.now() - t0} ms`);
  const h = await fetch(`${d.baseUrl}/healthz`);
  assert.equal(h.status, 200);
  assert.equal(((await h.json()) as { status: string }).status, 'ok');
  assert.ok(statSync(join(work, 'run', 'state', 'state.db')).size > 0, 'better-sqlite3 (arm64 prebuild) wrote state.db');
  await rx.waitFor('READY=1', 10_000);
  assert.ok(!d.logs.some((l) => /addon not built/.test(String(l.msg))), 'the cross-built lw_native.node loaded');
  assert.ok((await waitForMallocTrim(d.baseUrl)) > 0, "the cross-built addon's malloc trim runs");
  d.child.kill('SIGTERM');
  assert.equal(await d.exited, 0);
});

test('no bundle without a start check: without qemu the arm64 release fails and writes no tarball', () => {
  // A PATH with everything release.mjs needs except qemu-aarch64-static.
  const bin = join(work, 'bin-no-qemu');
  mkdirSync(bin);
  for (const tool of ['npm', 'tar', 'gzip', 'aarch64-linux-gnu-gcc', 'aarch64-linux-gnu-as', 'aarch64-linux-gnu-ld']) {
    const found = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', tool], { encoding: 'utf8' }).stdout.trim();
    if (found) symlinkSync(found, join(bin, tool));
  }
  symlinkSync(process.execPath, join(bin, 'node'), 'file');
  const out = join(work, 'out-no-qemu');
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'release.mjs'), '--no-build', '--arch', 'arm64', '--out-dir', out], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: RELEASE_TIMEOUT_MS,
    env: { ...process.env, PATH: bin },
  });
  assert.notEqual(r.status, 0, r.stdout);
  assert.match(r.stderr + r.stdout, /qemu-aarch64-static not found/);
  assert.ok(!existsSync(join(out, `${name}.tar.gz`)), 'no tarball');
});
