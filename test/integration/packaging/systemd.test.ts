/** systemd/linkward.service: `systemd-analyze verify` against a materialised install root, and its security exposure score. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DROPIN_DIR, REPO_ROOT, UNIT_PATH, ensureBundle, requireTool, unitAt, unitEntries, unitValue } from './fixtures.ts';

/** Exposure measured for this unit: 2.2 ("OK"); the bound leaves room for one small relaxation, not for dropping the sandbox. */
const MAX_EXPOSURE = 3.0;
/** systemd-analyze runs offline in well under a second; bound it anyway. */
const ANALYZE_TIMEOUT_MS = 30_000;

let root = '';

function analyze(args: string[]): { status: number | null; out: string } {
  const r = spawnSync('systemd-analyze', args, {
    cwd: root,
    encoding: 'utf8',
    timeout: ANALYZE_TIMEOUT_MS,
    env: { ...process.env, SYSTEMD_LOG_COLOR: '0', SYSTEMD_PAGER: '' },
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Writes `text` as <dir>/linkward.service (verify needs the file name to match the unit name). */
function writeUnit(dir: string, text: string): string {
  mkdirSync(dir, { recursive: true });
  const p = join(dir, 'linkward.service');
  writeFileSync(p, text);
  return p;
}

before(() => {
  requireTool('systemd-analyze', ['--version'], 'systemd');
  const bundle = ensureBundle();
  // A fake /usr/lib/linkward: the pinned node and the built bundle, at the paths the unit names.
  root = mkdtempSync(join(tmpdir(), 'lw-unit-'));
  mkdirSync(join(root, 'dist'));
  symlinkSync(join(REPO_ROOT, 'node_modules', '.bin', 'node'), join(root, 'node'));
  symlinkSync(bundle, join(root, 'dist', 'linkward.mjs'));
});
after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

test('the unit passes systemd-analyze verify when its ExecStart paths exist', () => {
  const unit = writeUnit(join(root, 'u'), unitAt(root));
  const r = analyze(['verify', unit]);
  assert.equal(r.status, 0, r.out);
  assert.doesNotMatch(r.out, /linkward\.service:/, `verify reported problems:\n${r.out}`);
});

test('verify has teeth: a missing node binary is reported', () => {
  const unit = writeUnit(join(root, 'bad'), unitAt(join(root, 'missing')));
  const r = analyze(['verify', unit]);
  assert.notEqual(r.status, 0);
  assert.match(r.out, /not executable|No such file/);
});

test('every drop-in example applied on top of the unit still verifies', () => {
  const examples = readdirSync(DROPIN_DIR).filter((f) => f.endsWith('.conf.example'));
  assert.ok(examples.length >= 2, `expected drop-in examples in ${DROPIN_DIR}`);
  for (const ex of examples) {
    // Appending a drop-in to the unit has the same effect as loading it from linkward.service.d/.
    const text = `${unitAt(root)}\n${unitAt(root, readFileSync(join(DROPIN_DIR, ex), 'utf8'))}`;
    const r = analyze(['verify', writeUnit(join(root, ex), text)]);
    assert.equal(r.status, 0, `${ex}: ${r.out}`);
    assert.doesNotMatch(r.out, /linkward\.service:/, `${ex}: ${r.out}`);
  }
});

test(`security exposure score is at most ${MAX_EXPOSURE} and the key protections are on`, (t) => {
  const unit = writeUnit(join(root, 'sec'), unitAt(root));
  const r = analyze(['security', '--offline=true', unit]);
  assert.equal(r.status, 0, r.out);
  const m = /Overall exposure level for linkward\.service: (\d+\.\d+) (\w+)/.exec(r.out);
  assert.ok(m?.[1], `no exposure line in:\n${r.out}`);
  const score = Number(m[1]);
  t.diagnostic(`exposure ${score} ${m[2]}`);
  assert.ok(score <= MAX_EXPOSURE, `exposure ${score} > ${MAX_EXPOSURE}:\n${r.out}`);
  const json = analyze(['security', '--offline=true', '--json=short', unit]);
  const checks = new Map((JSON.parse(json.out) as { name: string; set: boolean }[]).map((c) => [c.name, c.set]));
  for (const name of [
    'ProtectSystem=',
    'ProtectHome=',
    'PrivateTmp=',
    'NoNewPrivileges=',
    'CapabilityBoundingSet=~CAP_SYS_ADMIN',
    'CapabilityBoundingSet=~CAP_(DAC_*|FOWNER|IPC_OWNER)',
    'RestrictAddressFamilies=~AF_PACKET',
    'RestrictNamespaces=~user',
  ]) {
    assert.equal(checks.get(name), true, `${name} must be set`);
  }
});

test('the unit says what the daemon needs: notify + watchdog, restart policy, state dir, capabilities, pinned runtime', () => {
  const text = readFileSync(UNIT_PATH, 'utf8');
  const v = (key: string): string | undefined => unitValue(text, 'Service', key);
  assert.equal(v('Type'), 'notify');
  assert.equal(v('NotifyAccess'), 'main');
  assert.match(v('WatchdogSec') ?? '', /^\d+s$/);
  assert.equal(v('Restart'), 'always');
  assert.equal(v('StateDirectory'), 'linkward');
  assert.equal(v('ConfigurationDirectory'), 'linkward');
  assert.deepEqual(v('CapabilityBoundingSet')?.split(/\s+/).sort(), ['CAP_NET_ADMIN', 'CAP_NET_RAW']);
  assert.deepEqual(v('RestrictAddressFamilies')?.split(/\s+/).sort(), ['AF_INET', 'AF_INET6', 'AF_NETLINK', 'AF_UNIX']);
  assert.match(v('ExecStart') ?? '', /^\/usr\/lib\/linkward\/node \$LINKWARD_NODE_FLAGS \/usr\/lib\/linkward\/dist\/linkward\.mjs run$/);
  assert.ok(
    unitEntries(text).some((e) => e.key === 'Environment' && e.value.includes('LINKWARD_NODE_FLAGS=')),
    'node flags in one Environment line',
  );
  assert.match(unitValue(text, 'Unit', 'After') ?? '', /network-online\.target.*k3s\.service/);
  // Every stop must finish before systemd's SIGKILL: the daemon's own budget is 5 s (+1 s force).
  assert.ok(Number(/^(\d+)s$/.exec(v('TimeoutStopSec') ?? '')?.[1]) > 6);
});
