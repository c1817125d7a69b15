/** The .deb (scripts/deb.mjs): lintian-clean; install, upgrade, remove and purge with real dpkg in a throwaway root. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../../..');
/** Staging, two debs and four dpkg runs take ~15 s here; lintian ~20 s more. */
const STEP_TIMEOUT_MS = 180_000;
const work = mkdtempSync(join(tmpdir(), 'lw-deb-test-'));
const tree = join(work, 'tree');
const R = join(work, 'root');
let debV1 = '';
let debV2 = '';

function node(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: STEP_TIMEOUT_MS });
}

/** dpkg on the throwaway root: maintainer scripts run chrootless with DPKG_ROOT=R; dependencies are the host's business. */
function dpkg(...args: string[]): string {
  const r = spawnSync('dpkg', [`--root=${R}`, '--force-script-chrootless', '--force-depends', '--log=/dev/null', ...args], {
    encoding: 'utf8',
    timeout: STEP_TIMEOUT_MS,
  });
  assert.equal(r.status, 0, `dpkg ${args.join(' ')}: ${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

function status(): string {
  const r = spawnSync('dpkg-query', [`--admindir=${join(R, 'var', 'lib', 'dpkg')}`, '-W', '-f', '${Status} ${Version}', 'linkward'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout : 'not known';
}

const at = (p: string): string => join(R, p);
const lines = (p: string, prefix: string): string[] =>
  readFileSync(at(p), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith(prefix));

before(() => {
  assert.equal(process.getuid?.(), 0, 'the package test runs as root (CI does): dpkg --root needs it for owners and modes');
  node([join(ROOT, 'scripts', 'release.mjs'), '--no-build', '--stage', tree]);
  debV1 =
    node([join(ROOT, 'scripts', 'deb.mjs'), '--tree', tree, '--out-dir', join(work, 'v1'), '--version', '0.1.0', '--compression', 'gzip']).match(
      /(\S+\.deb)/,
    )?.[1] ?? '';
  debV2 =
    node([join(ROOT, 'scripts', 'deb.mjs'), '--tree', tree, '--out-dir', join(work, 'v2'), '--version', '0.1.1', '--compression', 'none']).match(
      /(\S+\.deb)/,
    )?.[1] ?? '';
  // An empty Debian root: dpkg database, account files, and init-system-helpers "installed" (the real one, via symlink).
  for (const d of ['var/lib/dpkg/info', 'var/lib/dpkg/updates', 'etc', 'usr/bin']) mkdirSync(at(d), { recursive: true });
  writeFileSync(at('var/lib/dpkg/status'), '');
  writeFileSync(at('etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(at('etc/group'), 'root:x:0:\n');
  writeFileSync(at('etc/shadow'), 'root:*:19000:0:99999:7:::\n', { mode: 0o640 });
  writeFileSync(at('etc/gshadow'), 'root:*::\n', { mode: 0o640 });
  symlinkSync('/usr/bin/deb-systemd-helper', at('usr/bin/deb-systemd-helper'));
});

after(() => rmSync(work, { recursive: true, force: true }));

test('lintian reports nothing (errors or warnings) beyond the documented overrides', () => {
  const r = spawnSync('lintian', ['--info', '--fail-on', 'error,warning', debV1], { encoding: 'utf8', timeout: STEP_TIMEOUT_MS });
  const findings = r.stdout.split('\n').filter((l) => /^[EW]: /.test(l));
  assert.deepEqual(findings, [], r.stdout);
  assert.equal(r.status, 0, `lintian exited ${r.status}: ${r.stderr}`);
});

test('install, upgrade, remove and purge in a throwaway root', () => {
  // Install: files, account, directory modes, conffile, unit enabled; and the packaged CLI runs on its own node.
  dpkg('-i', debV1);
  assert.equal(status(), 'install ok installed 0.1.0');
  for (const f of [
    'usr/lib/linkward/node',
    'usr/lib/linkward/dist/linkward.mjs',
    'usr/bin/linkward',
    'lib/systemd/system/linkward.service',
    'usr/share/man/man1/linkward.1.gz',
  ])
    assert.ok(existsSync(at(f)), f);
  assert.equal(lines('etc/passwd', 'linkward:').length, 1);
  const gid = Number(lines('etc/group', 'linkward:')[0]?.split(':')[2]);
  assert.ok(gid > 0 && gid < 1000, `system group, gid ${gid}`);
  for (const [p, mode] of [
    ['etc/linkward', 0o750],
    ['var/lib/linkward', 0o750],
    ['etc/linkward/config.yaml', 0o640],
  ] as const) {
    const st = statSync(at(p));
    assert.equal(st.mode & 0o777, mode, `${p} mode`);
    assert.equal(st.gid, gid, `${p} group linkward`);
  }
  assert.match(readFileSync(at('var/lib/dpkg/info/linkward.conffiles'), 'utf8'), /^\/etc\/linkward\/config.yaml$/m);
  assert.equal(readlinkSync(at('etc/systemd/system/multi-user.target.wants/linkward.service')), '/lib/systemd/system/linkward.service');
  const validate = spawnSync(at('usr/lib/linkward/node'), [at('usr/lib/linkward/dist/linkward.mjs'), 'config', 'validate', at('etc/linkward/config.yaml')], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(validate.status, 0, validate.stderr + validate.stdout);

  // Upgrade with the operator's edit in the conffile and state in /var/lib/linkward: both survive.
  appendFileSync(at('etc/linkward/config.yaml'), '\n# edited by the operator\n');
  writeFileSync(at('var/lib/linkward/state.db'), 'state');
  dpkg('-i', debV2);
  assert.equal(status(), 'install ok installed 0.1.1');
  assert.match(readFileSync(at('usr/bin/linkward'), 'utf8'), /package 0\.1\.1/);
  assert.match(readFileSync(at('etc/linkward/config.yaml'), 'utf8'), /edited by the operator/);
  assert.equal(lines('etc/passwd', 'linkward:').length, 1, 'the account is not created twice');
  assert.ok(existsSync(at('var/lib/linkward/state.db')));

  // Remove: program gone, config and state kept, unit masked until purge.
  dpkg('--remove', 'linkward');
  assert.equal(status(), 'deinstall ok config-files 0.1.1');
  assert.ok(!existsSync(at('usr/lib/linkward/node')) && !existsSync(at('usr/bin/linkward')) && !existsSync(at('lib/systemd/system/linkward.service')));
  assert.match(readFileSync(at('etc/linkward/config.yaml'), 'utf8'), /edited by the operator/);
  assert.ok(existsSync(at('var/lib/linkward/state.db')));
  assert.equal(readlinkSync(at('etc/systemd/system/linkward.service')), '/dev/null', 'masked');

  // Purge: config, state, enablement and mask gone; the account stays (Debian practice).
  dpkg('--purge', 'linkward');
  assert.equal(status(), 'not known');
  for (const p of ['etc/linkward', 'var/lib/linkward', 'etc/systemd/system/linkward.service', 'etc/systemd/system/multi-user.target.wants/linkward.service']) {
    assert.ok(!existsSync(at(p)) && !isLink(at(p)), `${p} removed`);
  }
  assert.equal(lines('etc/passwd', 'linkward:').length, 1);
});

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
