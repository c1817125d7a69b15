/** A helper whose revert outlasts the agent's short wait (slow `ip` commands): recovery waits for it, and nothing of it is left after the tidy. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock } from '../../../agent/base/clock.ts';
import { silentLogger } from '../../../agent/base/log.ts';
import { createIpActuator } from '../../../agent/route/actuator.ts';
import type { PlanOptions } from '../../../agent/route/plan.ts';
import type { RouteTarget } from '../../../agent/route/reconcile.ts';
import { ARM_ACK_TIMEOUT_MS, createRevertHelper, planStatus, sharedMonoMs } from '../../../agent/route/revert-helper.ts';
import { createRouteStore } from '../../../agent/route/store.ts';
import { recoverPending } from '../../../agent/route/rollback.ts';
import type { SwitchDeps } from '../../../agent/route/switcher.ts';
import { routeContext, twoUplinkKernel } from '../../support/route-context.ts';

const OPTS: PlanOptions = { perUplinkTables: true, tableBase: 7100, routeProto: 77, mainMetric: 0 };
/** Each of the plan's two commands takes this long: together longer than the 5 s the agent used to wait. */
const COMMAND_MS = 3_000;
/**
 * The revert falls due this long after the plan is made: not before the agent stops waiting for the acknowledgement.
 * A helper that reads an arm whose revert is already due runs the revert (both slow commands, 6 s) before it answers;
 * with the former 50 ms, a helper preempted for ~100 ms on a busy CI node (up to 8 % of arms took over 50 ms under
 * load in `npm run bench:route-arm -- --load`) failed the arm with "no acknowledgement within 2000 ms".
 * Now the arm fails only if the acknowledgement really takes longer than ARM_ACK_TIMEOUT_MS.
 */
const DUE_MS = ARM_ACK_TIMEOUT_MS;
/** The agent's deadline is this long before the helper's revert (the grace). */
const GRACE_MS = 30;

test('recovery after the helper fired waits for its slow revert to finish: no result file appears after the tidy', async (t) => {
  const ctx = routeContext();
  t.after(() => ctx.cleanup());
  const log = silentLogger();
  const helper = createRevertHelper({ stateDir: ctx.stateDir, launcher: 'detached', log });
  await helper.start();
  t.after(() => void helper.stop());
  const planFile = join(ctx.stateDir, 'route-revert-1.json');
  const now = sharedMonoMs();
  const slow = ['-e', `setTimeout(() => {}, ${COMMAND_MS})`];
  await helper.arm(planFile, {
    deadlineMono: now + DUE_MS - GRACE_MS,
    revertAtMono: now + DUE_MS,
    deadlineMs: Date.now() + DUE_MS - GRACE_MS,
    cmd: process.execPath,
    commands: [slow, slow],
  });
  for (const until = performance.now() + DUE_MS + 5_000; planStatus(planFile) !== 'reverting' && performance.now() < until; )
    await new Promise((r) => setTimeout(r, 20));
  assert.equal(planStatus(planFile), 'reverting', 'the helper fired (the agent "died" before its deadline)');

  const store = createRouteStore(ctx.stateDb);
  store.savePending({ from: 'wan', to: 'lte', reason: 'failover', planFile, startedMs: Date.now() });
  const deps: SwitchDeps = {
    actuator: createIpActuator({ runner: twoUplinkKernel(), log }),
    clock: systemClock,
    log,
    store,
    stateDir: ctx.stateDir,
    helper,
    sharedMono: sharedMonoMs,
    ipPath: '/bin/true',
    dryRun: false,
    conntrack: null,
    knownSources: () => ({}),
    confirm: async () => {
      throw new Error('recovery never confirms');
    },
  };
  const target = (active: string): RouteTarget => ({ uplinks: ctx.config.uplinks, active, linkUp: {}, opts: OPTS });
  const t0 = performance.now();
  const recovered = await recoverPending(deps, () => target('wan'));
  const tookMs = performance.now() - t0;
  assert.equal(recovered?.to, 'lte');
  assert.match(store.history(1)[0]?.detail ?? '', /done by the helper/);
  // give a helper that were still running the time to write its result
  await new Promise((r) => setTimeout(r, 1_500));
  const left = readdirSync(ctx.stateDir).filter((f) => f.startsWith('route-revert-'));
  t.diagnostic(`recovery returned after ${Math.round(tookMs)} ms; left behind: ${left.join(', ') || 'nothing'}`);
  assert.deepEqual(left, [], 'the helper finished before the tidy');
});
