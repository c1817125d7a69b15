/** The pre-started revert helper is a real process: armed by a message, it reverts at the shared deadline, when its agent is killed -9, and is restarted if it dies. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../agent/base/log.ts';
import { markerPlan } from '../../support/revert-plan.ts';
import { chooseLauncher, claimRevert, confirmClaimed, createRevertHelper, helperArgv, planStatus, sharedMonoMs } from '../../../agent/route/revert-helper.ts';

/** Polls `cond` every 20 ms for at most `ms`. */
async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  for (let i = 0; i < ms / 20; i++) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

const alive = (pid: number | null): boolean => {
  try {
    return pid !== null && (process.kill(pid, 0), true);
  } catch {
    return false;
  }
};

/** A plan whose "revert" appends to a marker file (never the host's ip); the agent's deadline halfway. */
const plan = (dir: string, revertInMs: number) => markerPlan(dir, revertInMs, revertInMs / 2);

function setup(t: { after(fn: () => void): void }): { dir: string; helper: ReturnType<typeof createRevertHelper> } {
  const dir = mkdtempSync(join(tmpdir(), 'lwr-helper-'));
  const helper = createRevertHelper({ stateDir: dir, launcher: 'detached', log: silentLogger() });
  t.after(() => {
    const pid = helper.pid();
    void helper.stop();
    if (alive(pid)) process.kill(pid!, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, helper };
}

test('an armed helper reverts at the shared monotonic deadline when nobody claims the plan', async (t) => {
  const { dir, helper } = setup(t);
  await helper.start();
  const { marker, plan: p } = plan(dir, 300);
  const file = join(dir, 'route-revert-1.json');
  await helper.arm(file, p);
  assert.equal(planStatus(file), 'armed');
  assert.ok(await waitFor(() => existsSync(marker) && existsSync(file + '.result'), 5000), 'helper ran the revert');
  const result = JSON.parse(readFileSync(file + '.result', 'utf8')) as { revertedAtMono: number; by: string; errors: unknown[] };
  assert.equal(result.by, 'helper');
  assert.deepEqual(result.errors, []);
  assert.ok(result.revertedAtMono >= p.revertAtMono, 'never before the deadline');
  assert.equal(claimRevert(file), null, 'too late for the agent to claim');
  assert.ok(alive(helper.pid()), 'the helper stays up for the next switch');
});

test('a claimed and confirmed plan is never reverted; the helper stays up', async (t) => {
  const { dir, helper } = setup(t);
  await helper.start();
  const { marker, plan: p } = plan(dir, 300);
  const file = join(dir, 'route-revert-2.json');
  await helper.arm(file, p);
  assert.deepEqual(claimRevert(file)?.commands, p.commands);
  assert.equal(claimRevert(file), null, 'only one claim wins');
  confirmClaimed(file);
  helper.disarm(file);
  assert.equal(planStatus(file), 'confirmed');
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(existsSync(marker), false);
  assert.ok(alive(helper.pid()));
});

test('kill -9 of the agent mid-confirm: the helper reverts at once, long before the deadline', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lwr-helper-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const marker = join(dir, 'reverted.txt');
  const file = join(dir, 'route-revert-3.json');
  // A separate "agent" process arms a plan due in 60 s, then waits to be killed.
  const src = `
    import { createRevertHelper, sharedMonoMs } from ${JSON.stringify(new URL('../../../agent/route/revert-helper.ts', import.meta.url).href)};
    const h = createRevertHelper({ stateDir: ${JSON.stringify(dir)}, launcher: 'detached', log: { warn() {}, error() {}, info() {}, debug() {} } });
    await h.start();
    const now = sharedMonoMs();
    await h.arm(${JSON.stringify(file)}, { deadlineMono: now + 30000, revertAtMono: now + 60000, deadlineMs: Date.now() + 30000, cmd: process.execPath, commands: ${JSON.stringify([['-e', `require('node:fs').appendFileSync(${JSON.stringify(marker)}, 'r')`]])} });
    console.log(h.pid());
    setInterval(() => {}, 1000);`;
  const agent = spawn(process.execPath, ['--input-type=module', '-e', src], { stdio: ['ignore', 'pipe', 'inherit'] });
  const helperPid = await new Promise<number>((r) => agent.stdout!.once('data', (d: Buffer) => r(Number(d.toString().trim()))));
  t.after(() => {
    if (alive(helperPid)) process.kill(helperPid, 'SIGKILL');
  });
  assert.equal(planStatus(file), 'armed');
  agent.kill('SIGKILL');
  const killedAt = performance.now();
  assert.ok(await waitFor(() => existsSync(marker), 5000), 'reverted after the agent died');
  assert.ok(await waitFor(() => existsSync(file + '.result'), 5000));
  t.diagnostic(`helper reverted ${Math.round(performance.now() - killedAt)} ms after kill -9 (deadline was 60 s away)`);
  assert.equal(JSON.parse(readFileSync(file + '.result', 'utf8')).agentGone, true);
  assert.ok(await waitFor(() => !alive(helperPid), 3000), 'the orphaned helper exits');
});

test('a reader that polls for ".result" never finds it half written (30 reverts, read the moment it appears)', async (t) => {
  const { dir, helper } = setup(t);
  await helper.start();
  let torn = 0;
  for (let i = 0; i < 30; i++) {
    const file = join(dir, `route-revert-r${i}.json`);
    const now = sharedMonoMs();
    await helper.arm(file, { deadlineMono: now + 20, revertAtMono: now + 40, deadlineMs: Date.now() + 20, cmd: process.execPath, commands: [['-e', '0']] });
    // Spin, not poll: the gap between creating and filling a non-atomic write is tens of microseconds.
    const until = performance.now() + 5000;
    while (!existsSync(file + '.result') && performance.now() < until);
    try {
      assert.equal(JSON.parse(readFileSync(file + '.result', 'utf8')).by, 'helper');
    } catch {
      torn++;
    }
  }
  assert.equal(torn, 0, `${torn} of 30 results were read half written`);
});

test('a helper that dies is restarted and can be armed again', async (t) => {
  const { dir, helper } = setup(t);
  await helper.start();
  const first = helper.pid();
  process.kill(first!, 'SIGKILL');
  assert.ok(await waitFor(() => helper.restarts() === 1 && helper.pid() !== first && alive(helper.pid()), 8000), 'restarted');
  const { marker, plan: p } = plan(dir, 200);
  const file = join(dir, 'route-revert-4.json');
  await helper.arm(file, p);
  assert.ok(await waitFor(() => existsSync(marker), 5000));
});

test('a dead helper makes arming fail with LW_ROUTE_HELPER_FAILED and withdraws the plan (when it cannot come back)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lwr-helper-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const helper = createRevertHelper({ stateDir: dir, launcher: 'detached', log: silentLogger(), nodePath: '/nonexistent/node' });
  const { plan: p } = plan(dir, 200);
  const file = join(dir, 'route-revert-5.json');
  const r = await Promise.race([
    helper.arm(file, p).then(
      () => 'armed',
      (e: { code?: string }) => e.code,
    ),
    new Promise((res) => setTimeout(() => res('pending'), 20_000).unref()),
  ]);
  await helper.stop();
  assert.equal(r, 'LW_ROUTE_HELPER_FAILED');
  assert.equal(planStatus(file), 'unknown', 'plan withdrawn (renamed .failed)');
});

test('launcher choice and systemd-run argv', () => {
  assert.equal(chooseLauncher('auto', true, false), 'systemd-run');
  assert.equal(chooseLauncher('auto', true, true), 'detached', 'inside linkward.service: no CAP_SYS_ADMIN for systemd-run');
  assert.equal(chooseLauncher('auto', false, false), 'detached');
  const argv = helperArgv('systemd-run', '/var/lib/linkward/h.sock', '/usr/bin/node', 'u1');
  assert.deepEqual(
    [argv.slice(0, 5), argv[5], argv[6], argv.at(-1)],
    [['systemd-run', '--quiet', '--collect', '--unit=u1', '--'], '/usr/bin/node', '-e', '/var/lib/linkward/h.sock'],
  );
});
