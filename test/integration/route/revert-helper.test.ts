/** The external revert helper is a real detached process: it reverts after the deadline unless disarmed, even when its parent is gone. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { armRevert, chooseLauncher, claimRevert, disarmRevert, helperArgv, planStatus } from '../../../agent/route/revert-helper.ts';

/** Polls `cond` every 50 ms for at most `ms`. */
async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  for (let i = 0; i < ms / 50; i++) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

function plan(dir: string, deadlineInMs: number) {
  const marker = join(dir, 'reverted.txt');
  return { marker, plan: { deadlineMs: Date.now() + deadlineInMs, cmd: process.execPath, commands: [['-e', `require('node:fs').appendFileSync(${JSON.stringify(marker)}, 'reverted\\n')`]] } };
}

test('helper reverts once the deadline passes when nobody disarms it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lwr-helper-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { marker, plan: p } = plan(dir, 300);
  const file = join(dir, 'route-revert-1.json');
  const pid = armRevert(file, p, 'detached');
  assert.ok(pid > 0);
  assert.equal(planStatus(file), 'armed');
  assert.ok(await waitFor(() => existsSync(marker), 5000), 'helper ran the revert');
  assert.equal(readFileSync(marker, 'utf8'), 'reverted\n');
  assert.ok(await waitFor(() => planStatus(file) === 'reverted', 2000));
  assert.deepEqual(JSON.parse(readFileSync(file + '.result', 'utf8')).errors, []);
  assert.equal(disarmRevert(file), false, 'too late to disarm');
});

test('a disarmed helper does nothing and exits', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lwr-helper-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { marker, plan: p } = plan(dir, 400);
  const file = join(dir, 'route-revert-2.json');
  const pid = armRevert(file, p, 'detached');
  assert.equal(disarmRevert(file), true);
  assert.equal(planStatus(file), 'confirmed');
  assert.ok(await waitFor(() => { try { process.kill(pid, 0); return false; } catch { return true; } }, 3000), 'helper exited');
  assert.equal(existsSync(marker), false);
});

test('the agent can claim the plan back and the helper then stays out', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lwr-helper-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { marker, plan: p } = plan(dir, 300);
  const file = join(dir, 'route-revert-3.json');
  armRevert(file, p, 'detached');
  const claimed = claimRevert(file);
  assert.deepEqual(claimed?.commands, p.commands);
  assert.equal(claimRevert(file), null, 'only one claim wins');
  await new Promise((r) => setTimeout(r, 700));
  assert.equal(existsSync(marker), false);
});

test('launcher choice and systemd-run argv', () => {
  assert.equal(chooseLauncher('auto', true, false), 'systemd-run');
  assert.equal(chooseLauncher('auto', true, true), 'detached', 'inside linkward.service: no CAP_SYS_ADMIN for systemd-run');
  assert.equal(chooseLauncher('auto', false, false), 'detached');
  const argv = helperArgv('systemd-run', '/var/lib/linkward/p.json', '/usr/bin/node', 'u1');
  assert.deepEqual([argv.slice(0, 5), argv[5], argv[6], argv.at(-1)], [['systemd-run', '--quiet', '--collect', '--unit=u1', '--'], '/usr/bin/node', '-e', '/var/lib/linkward/p.json']);
});
