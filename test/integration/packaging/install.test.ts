/** scripts/install.sh and uninstall.sh into a temp DESTDIR: the installed tree, idempotence, --dry-run, the operator's config kept. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { REPO_ROOT, UNIT_PATH, ensureBundle, requireTool } from './fixtures.ts';
import { runCli } from './tree-daemon.ts';

/** Staging copies ~130 MB and runs the packaged Node twice: seconds here, more on shared CI cores. */
const STAGE_TIMEOUT_MS = 120_000;

let work = '';
let release = '';

/** Runs a release script with POSIX sh (dash on Debian), as an operator would. */
function sh(script: string, args: string[], destdir: string): { status: number | null; out: string } {
  const r = spawnSync('sh', [join(release, script), ...args], {
    cwd: work,
    encoding: 'utf8',
    timeout: 60_000,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', DESTDIR: destdir },
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Relative path → [mode, mtimeMs] of every file under `dir`. */
function snapshot(dir: string): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const p = join(e.parentPath, e.name);
    const s = statSync(p);
    out.set(relative(dir, p), [s.mode, s.mtimeMs]);
  }
  return out;
}

before(() => {
  ensureBundle();
  work = mkdtempSync(join(tmpdir(), 'lw-install-test-'));
  release = join(work, 'release');
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'release.mjs'), '--no-build', '--stage', release], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: STAGE_TIMEOUT_MS,
  });
  assert.equal(r.status, 0, `release.mjs --stage failed: ${r.stdout}${r.stderr}`);
});
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('installs the tree, wrapper, unit and a first config; a second run changes nothing', () => {
  const dest = join(work, 'root1');
  const first = sh('install.sh', [], dest);
  assert.equal(first.status, 0, first.out);
  assert.match(first.out, /done: \d+ changes/);
  assert.match(first.out, /skipping daemon-reload\/enable/, 'never touches systemd with DESTDIR');
  const lib = join(dest, 'usr/lib/linkward');
  assert.ok(statSync(join(lib, 'node')).mode & 0o100, 'node executable');
  assert.equal(readFileSync(join(lib, 'dist/linkward.mjs'), 'utf8'), readFileSync(join(release, 'dist/linkward.mjs'), 'utf8'));
  assert.ok(existsSync(join(lib, 'node_modules/better-sqlite3/prebuilds/linux-x64.node')));
  assert.ok(existsSync(join(lib, 'agent/native/build/Release/lw_native.node')));
  const wrapper = readFileSync(join(dest, 'usr/bin/linkward'), 'utf8');
  assert.match(wrapper, /^#!\/bin\/sh\n/);
  assert.match(wrapper, /exec \/usr\/lib\/linkward\/node \/usr\/lib\/linkward\/dist\/linkward\.mjs "\$@"/);
  assert.equal(statSync(join(dest, 'usr/bin/linkward')).mode & 0o777, 0o755);
  assert.equal(readFileSync(join(dest, 'etc/systemd/system/linkward.service'), 'utf8'), readFileSync(UNIT_PATH, 'utf8'));
  const config = join(dest, 'etc/linkward/config.yaml');
  assert.equal(readFileSync(config, 'utf8'), readFileSync(join(release, 'config.example.yaml'), 'utf8'));
  assert.equal(statSync(config).mode & 0o777, 0o640, 'config may hold a token: not world-readable');
  // The installed runtime works and accepts the installed config.
  const v = runCli(lib, ['config', 'validate', config]);
  assert.equal(v.status, 0, `${v.stdout}${v.stderr}`);

  const before2 = snapshot(dest);
  const second = sh('install.sh', [], dest);
  assert.equal(second.status, 0, second.out);
  assert.match(second.out, /no changes/);
  assert.doesNotMatch(second.out, /install \//);
  assert.deepEqual(snapshot(dest), before2, 'second run touched no file');
});

test('--dry-run prints what it would do and writes nothing', () => {
  const dest = join(work, 'root2');
  const r = sh('install.sh', ['--dry-run'], dest);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /would install .*\/usr\/lib\/linkward\/node/);
  assert.match(r.out, /would create .*\/etc\/linkward\/config\.yaml/);
  assert.match(r.out, /dry run: \d+ changes would be made/);
  assert.equal(existsSync(dest), false, 'nothing created');
});

test("an operator's config is never overwritten; an upgrade replaces changed files and removes stale ones", () => {
  const dest = join(work, 'root3');
  assert.equal(sh('install.sh', [], dest).status, 0);
  const config = join(dest, 'etc/linkward/config.yaml');
  writeFileSync(config, 'server:\n  listen: 127.0.0.1:9999\n');
  const lib = join(dest, 'usr/lib/linkward');
  writeFileSync(join(lib, 'dist/old-chunk.mjs'), '// from an older release\n');
  appendFileSync(join(release, 'docs/OPERATIONS.md'), '\n<!-- upgrade marker -->\n');
  const r = sh('install.sh', [], dest);
  assert.equal(r.status, 0, r.out);
  assert.equal(readFileSync(config, 'utf8'), 'server:\n  listen: 127.0.0.1:9999\n');
  assert.match(r.out, /install .*docs\/OPERATIONS\.md/);
  assert.match(r.out, /remove stale .*dist\/old-chunk\.mjs/);
  assert.equal(existsSync(join(lib, 'dist/old-chunk.mjs')), false);
  assert.match(readFileSync(join(lib, 'docs/OPERATIONS.md'), 'utf8'), /upgrade marker/);
  assert.match(r.out, /done: 2 changes/);
});

test('uninstall removes what install added, keeps config and state unless --purge', () => {
  const dest = join(work, 'root4');
  assert.equal(sh('install.sh', [], dest).status, 0);
  const state = join(dest, 'var/lib/linkward');
  mkdirSync(state, { recursive: true });
  writeFileSync(join(state, 'state.db'), 'x');
  const dry = sh('uninstall.sh', ['--dry-run'], dest);
  assert.equal(dry.status, 0, dry.out);
  assert.match(dry.out, /would remove .*usr\/lib\/linkward/);
  assert.ok(existsSync(join(dest, 'usr/lib/linkward/node')), 'dry run removed nothing');
  const r = sh('uninstall.sh', [], dest);
  assert.equal(r.status, 0, r.out);
  for (const p of ['usr/lib/linkward', 'usr/bin/linkward', 'etc/systemd/system/linkward.service']) assert.equal(existsSync(join(dest, p)), false, p);
  assert.ok(existsSync(join(dest, 'etc/linkward/config.yaml')));
  assert.ok(existsSync(join(state, 'state.db')));
  const purge = sh('uninstall.sh', ['--purge'], dest);
  assert.equal(purge.status, 0, purge.out);
  assert.equal(existsSync(join(dest, 'etc/linkward')), false);
  assert.equal(existsSync(state), false);
});

test('install.sh and uninstall.sh are clean POSIX sh (shellcheck -s sh)', () => {
  requireTool('shellcheck', ['--version'], 'shellcheck');
  const r = spawnSync('shellcheck', ['-s', 'sh', join(REPO_ROOT, 'scripts', 'install.sh'), join(REPO_ROOT, 'scripts', 'uninstall.sh')], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stdout);
});
