/** The unit's privilege model, emulated with setpriv: only its capabilities + no_new_privs still run ip, nft, ping, read root's 0600 files, and the daemon. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { REPO_ROOT, UNIT_PATH, ensureBundle, requireTool, unitValue } from './fixtures.ts';
import { startTreeDaemon } from './tree-daemon.ts';

/** uid of `nobody` on Debian: owns the file root must NOT be able to read without CAP_DAC_OVERRIDE. */
const NOBODY_UID = 65534;
/** Each command here finishes in milliseconds; a hung one fails instead of blocking the suite. */
const CMD_TIMEOUT_MS = 15_000;

let work = '';
let wrap: string[] = [];

function asUnit(cmd: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(wrap[0] ?? 'setpriv', [...wrap.slice(1), cmd, ...args], {
    encoding: 'utf8',
    timeout: CMD_TIMEOUT_MS,
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' },
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

before(() => {
  assert.equal(process.getuid?.(), 0, 'this test emulates the root service: run it as root (CI does)');
  requireTool('setpriv', ['--version'], 'util-linux');
  requireTool('nft', ['--version'], 'nftables');
  requireTool('ping', ['-V'], 'iputils-ping');
  requireTool('ip', ['-V'], 'iproute2');
  // The capability list comes from the unit itself, so the test follows any change to it.
  const caps = (unitValue(readFileSync(UNIT_PATH, 'utf8'), 'Service', 'CapabilityBoundingSet') ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`);
  assert.ok(caps.length > 0, 'CapabilityBoundingSet missing from the unit');
  const set = ['-all', ...caps].join(',');
  wrap = ['setpriv', '--no-new-privs', `--bounding-set=${set}`, `--inh-caps=${set}`, `--ambient-caps=${set}`, '--'];
  work = mkdtempSync(join(tmpdir(), 'lw-caps-'));
});
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('only CAP_NET_ADMIN and CAP_NET_RAW are effective, and no_new_privs is set', () => {
  const r = asUnit('grep', ['-E', '^(CapEff|NoNewPrivs):', '/proc/self/status']);
  assert.equal(r.status, 0, r.out);
  // CAP_NET_ADMIN = bit 12, CAP_NET_RAW = bit 13 → 0x3000.
  assert.match(r.out, /CapEff:\s+0000000000003000/);
  assert.match(r.out, /NoNewPrivs:\s+1/);
});

test('ip, nft and ping work with those capabilities', () => {
  for (const [cmd, args] of [
    ['ip', ['-j', 'route', 'show']],
    ['nft', ['list', 'tables']],
    ['ping', ['-c', '1', '-W', '2', '127.0.0.1']],
  ] as const) {
    const r = asUnit(cmd, [...args]);
    assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.out}`);
  }
});

test("root's 0600 files (like /etc/rancher/k3s/k3s.yaml) stay readable; other users' 0600 files do not", () => {
  const mine = join(work, 'k3s.yaml');
  writeFileSync(mine, 'apiVersion: v1\nkind: Config\n', { mode: 0o600 });
  const theirs = join(work, 'someone-else.yaml');
  writeFileSync(theirs, 'secret\n', { mode: 0o600 });
  chownSync(theirs, NOBODY_UID, NOBODY_UID);
  chmodSync(work, 0o755);
  const ok = asUnit('cat', [mine]);
  assert.equal(ok.status, 0, ok.out);
  assert.match(ok.out, /kind: Config/);
  const denied = asUnit('cat', [theirs]);
  assert.notEqual(denied.status, 0, 'CAP_DAC_OVERRIDE must not be available');
  assert.match(denied.out, /Permission denied/);
});

test('the daemon starts, serves and stops cleanly under the same restrictions', async (t) => {
  const bundle = ensureBundle();
  const tree = join(work, 'tree');
  mkdirSync(join(tree, 'dist'), { recursive: true });
  symlinkSync(join(REPO_ROOT, 'node_modules', '.bin', 'node'), join(tree, 'node'));
  symlinkSync(bundle, join(tree, 'dist', 'linkward.mjs'));
  mkdirSync(join(work, 'run'));
  const d = await startTreeDaemon(tree, join(work, 'run', 'state'), { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' }, wrap);
  t.after(() => d.kill());
  const h = await request(`${d.baseUrl}/healthz`);
  assert.equal(h.statusCode, 200, await h.body.text());
  d.child.kill('SIGTERM');
  assert.equal(await d.exited, 0);
});
