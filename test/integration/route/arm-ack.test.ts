/** The arm's wait for the helper's acknowledgement (ARM_ACK_TIMEOUT_MS) against a helper held off the CPU (SIGSTOP). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../agent/base/log.ts';
import { markerPlan } from '../../support/revert-plan.ts';
import { ARM_ACK_TIMEOUT_MS, claimRevert, confirmClaimed, createRevertHelper, planStatus } from '../../../agent/route/revert-helper.ts';

/** The slowest arm measured under load (484 ms of 14,329, `npm run bench:route-arm -- --load`, 2026-12-05), rounded up. */
const SLOWEST_MEASURED_ARM_MS = 500;

/** A plan whose "revert" appends to a marker file (never the host's ip), due `revertInMs` from now. */
const plan = (dir: string, revertInMs: number) => markerPlan(dir, revertInMs, 100);

/** A started helper, resumed and stopped after the test whatever happens to it. */
async function setup(t: { after(fn: () => void | Promise<void>): void }): Promise<{ dir: string; helper: ReturnType<typeof createRevertHelper> }> {
  const dir = mkdtempSync(join(tmpdir(), 'lwr-ack-'));
  const helper = createRevertHelper({ stateDir: dir, launcher: 'detached', log: silentLogger() });
  t.after(async () => {
    const pid = helper.pid();
    try {
      if (pid !== null) process.kill(pid, 'SIGCONT');
    } catch {
      /* gone */
    }
    await helper.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  await helper.start();
  return { dir, helper };
}

/** Holds the helper off the CPU for `ms`, as a busy scheduler might. */
function stall(pid: number | null, ms: number): void {
  assert.ok(pid !== null);
  process.kill(pid, 'SIGSTOP');
  setTimeout(() => process.kill(pid, 'SIGCONT'), ms);
}

test('a helper stalled as long as the slowest arm measured under load is still armed', async (t) => {
  const { dir, helper } = await setup(t);
  const file = join(dir, 'route-revert-1.json');
  const { plan: p } = plan(dir, 60_000);
  stall(helper.pid(), SLOWEST_MEASURED_ARM_MS);
  const t0 = performance.now();
  await helper.arm(file, p);
  const ms = performance.now() - t0;
  t.diagnostic(`armed after ${Math.round(ms)} ms (helper stalled ${SLOWEST_MEASURED_ARM_MS} ms, wait ${ARM_ACK_TIMEOUT_MS} ms)`);
  assert.ok(ms >= SLOWEST_MEASURED_ARM_MS - 5, 'the acknowledgement came after the stall');
  assert.equal(planStatus(file), 'armed');
  assert.ok(claimRevert(file));
  confirmClaimed(file);
  helper.disarm(file);
});

test('a helper stalled past the wait: the switch is refused, the plan withdrawn and never reverted; the helper arms again', async (t) => {
  const { dir, helper } = await setup(t);
  const file = join(dir, 'route-revert-2.json');
  // due soon after the refusal, so a helper that still took the plan would have reverted it by the check below
  const { marker, plan: p } = plan(dir, ARM_ACK_TIMEOUT_MS + 1_000);
  stall(helper.pid(), ARM_ACK_TIMEOUT_MS + 500);
  const t0 = performance.now();
  const err = await helper.arm(file, p).then(
    () => null,
    (e: unknown) => e as { code?: string; cause?: { message?: string } },
  );
  const ms = performance.now() - t0;
  assert.equal(err?.code, 'LW_ROUTE_HELPER_FAILED');
  assert.match(err?.cause?.message ?? '', new RegExp(`no acknowledgement within ${ARM_ACK_TIMEOUT_MS} ms`));
  assert.ok(ms >= ARM_ACK_TIMEOUT_MS - 5 && ms < ARM_ACK_TIMEOUT_MS + 1_000, `refused after the wait (${Math.round(ms)} ms)`);
  assert.equal(planStatus(file), 'unknown', 'plan withdrawn');
  assert.ok(existsSync(file + '.failed'));
  // the helper resumes, finds the plan gone and refuses it; past the plan's due time nothing was reverted
  await new Promise((r) => setTimeout(r, 2_000));
  assert.equal(existsSync(marker), false, 'a withdrawn plan is never reverted');
  const next = join(dir, 'route-revert-3.json');
  await helper.arm(next, plan(dir, 60_000).plan);
  assert.equal(planStatus(next), 'armed', 'the helper arms the next switch');
  assert.ok(claimRevert(next));
  confirmClaimed(next);
  helper.disarm(next);
});
