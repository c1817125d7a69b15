/** scripts/image.mjs: x64 + arm64 OCI images and their index built by umoci (no daemon, no registry); each rootfs runs the agent. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onJsonLines } from '../../support/json-lines.ts';
import { REPO_ROOT, ensureBundle, requireTool } from './fixtures.ts';
import { unitEnv, unitFlags } from '../../../scripts/bench/unit-runtime.mjs';

/** Two stages (the arm64 one runs its start check under qemu, ~15-40 s), two images, two unpacks. */
const STEP_TIMEOUT_MS = 240_000;
/** Start-to-ready is under 1 s natively and 2-4 s under qemu-user; generous for a loaded CI machine. */
const READY_TIMEOUT_MS = 20_000;
const READY_TIMEOUT_QEMU_MS = 90_000;
const NONROOT = '65532';
const EM = { amd64: 62, arm64: 183 } as const;
type Arch = keyof typeof EM;
const ARCHES: Arch[] = ['amd64', 'arm64'];
const work = mkdtempSync(join(tmpdir(), 'lw-image-test-'));
const layout = join(work, 'oci');
const rootfs = (arch: Arch): string => join(work, `unpacked-${arch}`, 'rootfs');
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
/** chroot runs with nothing from this machine's environment. */
const ENV = { PATH: '/usr/bin:/usr/lib/linkward', LC_ALL: 'C' };
/** Inside the arm64 rootfs: the static x86-64 qemu-user, copied in (this machine has no binfmt_misc registration). */
const QEMU_IN_ROOTFS = '/.qemu-aarch64-static';

interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string };
}
interface ImageConfig {
  architecture: string;
  os: string;
  config: { User: string; Entrypoint: string[]; Cmd: string[]; Env: string[] };
}
const blob = <T>(digest: string): T => JSON.parse(readFileSync(join(layout, 'blobs', ...digest.split(':')), 'utf8')) as T;
const layoutIndex = (): { manifests: Descriptor[] } => JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
const tagged = (ref: string): Descriptor | undefined => layoutIndex().manifests.find((x) => x.annotations?.['org.opencontainers.image.ref.name'] === ref);
const configOf = (manifestDigest: string): ImageConfig => blob<ImageConfig>(blob<{ config: { digest: string } }>(manifestDigest).config.digest);
const elfMachine = (file: string): number => readFileSync(file).subarray(0, 20).readUInt16LE(18);

before(() => {
  requireTool('umoci', ['--version'], 'umoci');
  requireTool('qemu-aarch64-static', ['--version'], 'qemu-user-static');
  ensureBundle();
  const trees = ARCHES.map((a) => join(work, `tree-${a}`));
  const release = join(REPO_ROOT, 'scripts', 'release.mjs');
  execFileSync(process.execPath, [release, '--no-build', '--arch', 'x64', '--stage', trees[0] ?? ''], {
    cwd: REPO_ROOT,
    timeout: STEP_TIMEOUT_MS,
    stdio: 'ignore',
  });
  execFileSync(process.execPath, [release, '--no-build', '--arch', 'arm64', '--stage', trees[1] ?? ''], {
    cwd: REPO_ROOT,
    timeout: STEP_TIMEOUT_MS,
    stdio: 'ignore',
  });
  execFileSync(process.execPath, [join(REPO_ROOT, 'scripts', 'image.mjs'), ...trees.flatMap((t) => ['--tree', t]), '--out', layout], {
    cwd: REPO_ROOT,
    timeout: STEP_TIMEOUT_MS,
    stdio: 'ignore',
  });
  for (const a of ARCHES)
    execFileSync('umoci', ['unpack', '--image', `${layout}:${pkg.version}-${a}`, join(work, `unpacked-${a}`)], { timeout: STEP_TIMEOUT_MS, stdio: 'ignore' });
});
after(() => rmSync(work, { recursive: true, force: true }));

test('the version tag is an OCI image index with one amd64 and one arm64 manifest, each for its own architecture', (t) => {
  const top = tagged(pkg.version);
  assert.ok(top, `tag ${pkg.version} in index.json`);
  assert.equal(top.mediaType, 'application/vnd.oci.image.index.v1+json');
  const index = blob<{ mediaType: string; manifests: Descriptor[] }>(top.digest);
  assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
  assert.deepEqual(
    index.manifests.map((m) => m.platform),
    ARCHES.map((a) => ({ architecture: a, os: 'linux' })),
  );
  for (const a of ARCHES) {
    const m = index.manifests.find((x) => x.platform?.architecture === a);
    assert.equal(m?.digest, tagged(`${pkg.version}-${a}`)?.digest, `index entry for ${a} is the ${pkg.version}-${a} image`);
    assert.equal(m?.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(configOf(m?.digest ?? '').architecture, a);
    assert.equal(elfMachine(join(rootfs(a), 'usr', 'lib', 'linkward', 'node')), EM[a], `${a} rootfs carries a ${a} node`);
    const mib = blob<{ layers: { size: number }[] }>(m?.digest ?? '').layers.reduce((n, l) => n + l.size, 0) / 1048576;
    t.diagnostic(`${a} image layers ${mib.toFixed(1)} MiB compressed`);
    assert.ok(mib > 20 && mib < 80, `${a}: ${mib.toFixed(1)} MiB`);
  }
});

test("each image: non-root user, the unit's Node flags and environment, `run` by default, no shell", () => {
  for (const a of ARCHES) {
    const config = configOf(tagged(`${pkg.version}-${a}`)?.digest ?? '').config;
    assert.equal(config.User, `${NONROOT}:${NONROOT}`);
    assert.deepEqual(config.Entrypoint, ['/usr/lib/linkward/node', ...unitFlags(), '/usr/lib/linkward/dist/linkward.mjs']);
    assert.deepEqual(config.Cmd, ['run']);
    for (const [k, v] of Object.entries(unitEnv())) assert.ok(config.Env.includes(`${k}=${v}`), `${a}: ${k}=${v} in the image's Env`);
    assert.ok(!existsSync(join(rootfs(a), 'bin', 'sh')) && !existsSync(join(rootfs(a), 'usr', 'bin', 'sh')), `${a}: no shell`);
  }
});

test('the CLI runs in the unpacked amd64 rootfs as the non-root user, without a shell', () => {
  const r = spawnSync(
    '/usr/sbin/chroot',
    [`--userspec=${NONROOT}:${NONROOT}`, rootfs('amd64'), '/usr/bin/linkward', 'config', 'validate', '/etc/linkward/config.yaml'],
    { encoding: 'utf8', env: ENV, timeout: 30_000 },
  );
  assert.equal(r.status, 0, r.stderr + r.stdout);
});

/** Runs the image's entrypoint in `dir` as non-root (behind `wrap` inside the chroot) until /healthz answers 200. */
async function entrypointServes(arch: Arch, wrap: string[], readyTimeoutMs: number): Promise<number> {
  const dir = rootfs(arch);
  const entry = configOf(tagged(`${pkg.version}-${arch}`)?.digest ?? '').config.Entrypoint;
  writeFileSync(
    join(dir, 'tmp', 'config.yaml'),
    'server:\n  listen: 127.0.0.1:0\nstate:\n  dir: /tmp/state\nkubernetes:\n  enabled: false\nprobes:\n  enabled: false\n',
    { mode: 0o644 },
  );
  // chroot shares this machine's network namespace, so the loopback listener is reachable from the test.
  const t0 = Date.now();
  const child = spawn('/usr/sbin/chroot', [`--userspec=${NONROOT}:${NONROOT}`, dir, ...wrap, ...entry, '--config', '/tmp/config.yaml', 'run'], {
    env: { ...ENV, ...unitEnv() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((r) => child.on('exit', r));
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  try {
    const base = await new Promise<string>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`not ready: ${stderr}`)), readyTimeoutMs);
      let listen = '';
      onJsonLines(child.stdout, (rec) => {
        if (rec.msg === 'linkward listening') listen = String(rec.listen);
        if (rec.msg === 'linkward ready') {
          clearTimeout(timer);
          res(`http://${listen}`);
        }
      });
      void exited.then((c) => {
        clearTimeout(timer);
        rej(new Error(`exited ${String(c)}: ${stderr}`));
      });
    });
    const readyMs = Date.now() - t0;
    const h = await fetch(`${base}/healthz`);
    assert.equal(h.status, 200);
    assert.ok(existsSync(join(dir, 'tmp', 'state', 'state.db')), 'state.db written by the non-root user');
    return readyMs;
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

test('the amd64 entrypoint runs the daemon in its rootfs as non-root; /healthz answers 200', async (t) => {
  t.diagnostic(`amd64 start to ready: ${await entrypointServes('amd64', [], READY_TIMEOUT_MS)} ms`);
});

test('the arm64 entrypoint runs the daemon in its rootfs (its own loader and libraries) under qemu-user; /healthz answers 200', async (t) => {
  // qemu-user inside the chroot: the arm64 node, its loader (/lib/ld-linux-aarch64.so.1) and glibc all come from the rootfs.
  const qemu = spawnSync('sh', ['-c', 'command -v qemu-aarch64-static'], { encoding: 'utf8' }).stdout.trim();
  copyFileSync(qemu, join(rootfs('arm64'), QEMU_IN_ROOTFS));
  t.diagnostic(`arm64 start to ready under qemu-user: ${await entrypointServes('arm64', [QEMU_IN_ROOTFS], READY_TIMEOUT_QEMU_MS)} ms`);
});

/**
 * podman, when installed: it reads the OCI layout itself, picks each architecture's image from the index, and runs
 * the amd64 one (no network: --network none; /healthz asked from inside with the image's own node). Flags that make it
 * work on this VM: runc (crun refuses hybrid cgroup v1/v2 hosts) and rlimits within the caller's own hard limits.
 * Not run without podman and runc: reported as skipped, never as passed.
 */
const podman = (args: string[], timeout = 60_000): ReturnType<typeof spawnSync> => spawnSync('podman', args, { encoding: 'utf8', timeout });
const havePodman = !podman(['--version']).error && !spawnSync('runc', ['--version']).error;
const PODMAN_RUN = ['--runtime', 'runc', '--ulimit', 'nofile=4096:4096', '--ulimit', 'nproc=1024:1024', '--network', 'none'];
/** Polls /healthz from inside the container for this long (start-to-ready is < 1 s natively). */
const PODMAN_READY_MS = 20_000;

test('podman: the index resolves per architecture and the amd64 image runs non-root, /healthz 200, stops on SIGTERM', {
  skip: havePodman ? false : 'podman or runc not installed (apt-get install podman runc)',
}, async (t) => {
  const name = `lw-image-test-${process.pid}`;
  const images: string[] = [];
  t.after(() => {
    podman(['rm', '-f', name]);
    for (const id of images) podman(['rmi', '-f', id]);
  });
  // podman names the pulled image after the layout's path, which must be lowercase (mkdtemp's suffix is not).
  const lower = join(tmpdir(), `lw-image-test-${process.pid}-oci`);
  symlinkSync(layout, lower);
  t.after(() => rmSync(lower, { force: true }));
  for (const a of ARCHES) {
    const pulled = podman(['pull', '-q', '--arch', a, `oci:${lower}:${pkg.version}`]);
    assert.equal(pulled.status, 0, String(pulled.stderr));
    const id = String(pulled.stdout).trim().split('\n').pop() ?? '';
    images.push(id);
    assert.equal(String(podman(['image', 'inspect', id, '--format', '{{.Architecture}}']).stdout).trim(), a, `--arch ${a} picks the ${a} image from the index`);
  }
  const amd64 = images[0] ?? '';
  const config = join(work, 'podman-config.yaml');
  writeFileSync(config, 'server:\n  listen: 127.0.0.1:9780\nstate:\n  dir: /tmp/state\nkubernetes:\n  enabled: false\nprobes:\n  enabled: false\n', {
    mode: 0o644,
  });
  const run = podman([
    'run',
    '-d',
    '--name',
    name,
    ...PODMAN_RUN,
    '--read-only',
    '--tmpfs',
    '/tmp',
    '-v',
    `${config}:/etc/lw-test.yaml:ro`,
    amd64,
    '--config',
    '/etc/lw-test.yaml',
    'run',
  ]);
  assert.equal(run.status, 0, String(run.stderr));
  const ask = "fetch('http://127.0.0.1:9780/healthz').then(async (r) => { console.log(r.status, await r.text()); }, () => console.log('no answer'))";
  let answer = '';
  for (const t0 = Date.now(); Date.now() - t0 < PODMAN_READY_MS && !answer.startsWith('200'); await new Promise((r) => setTimeout(r, 500))) {
    answer = String(podman(['exec', name, '/usr/lib/linkward/node', '-e', ask]).stdout).trim();
  }
  const logs = podman(['logs', name]);
  assert.match(answer, /^200 .*"status":"ok"/, `${String(logs.stdout)}${String(logs.stderr)}`);
  assert.equal(String(podman(['exec', name, '/usr/lib/linkward/node', '-p', 'process.getuid()']).stdout).trim(), NONROOT);
  assert.equal(podman(['stop', '-t', '10', name]).status, 0);
  assert.equal(String(podman(['inspect', name, '--format', '{{.State.ExitCode}}']).stdout).trim(), '0', 'clean exit on SIGTERM');
});
