/** The route component across a system suspend: a failback hold counts awake time, so no failback is served by the sleep. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock, type Clock } from '../../../agent/base/clock.ts';
import { createRouteComponent } from '../../../agent/route/component.ts';
import { fakeKernelDeps, feedRoute, LTE, mainDefault, routeContext, twoUplinkKernel, WAN } from '../../support/route-context.ts';

const HOUR = 3_600_000;
/** Long enough that an evaluation right after waking is inside it, short enough for a test on real time. */
const FAILBACK_HOLD_MS = 3_000;

/** Real time, plus a sleep the test can make happen: the wall clock and the suspended total move, the monotonic clock does not. */
function sleepyClock(): Clock & { suspend(ms: number): void } {
  let slept = 0;
  return {
    ...systemClock,
    nowMs: () => Date.now() + slept,
    suspendedMs: () => slept,
    suspend: (ms) => {
      slept += ms;
    },
  };
}

test('a failback hold half served when the system sleeps 8 h is still served awake after it: no failback on waking', async (t) => {
  const clock = sleepyClock();
  const ctx = routeContext({ failbackHold: FAILBACK_HOLD_MS }, [WAN, LTE], clock);
  t.after(() => ctx.cleanup());
  const ip = twoUplinkKernel();
  const c = createRouteComponent(
    ctx,
    fakeKernelDeps(ip, () => true),
  );
  t.after(() => c.stop());
  const feed = (health: Record<string, 'healthy' | 'down'>, n: number) => feedRoute(ctx, c, health, n);
  await c.start();
  await feed({ wan: 'down', lte: 'healthy' }, 3);
  assert.equal(mainDefault(ip), 'wwan0', 'failed over');
  await feed({ wan: 'healthy', lte: 'healthy' }, 2); // the failback hold starts
  assert.equal(mainDefault(ip), 'wwan0');
  clock.suspend(8 * HOUR);
  await feed({ wan: 'healthy', lte: 'healthy' }, 2);
  assert.equal(mainDefault(ip), 'wwan0', 'the sleep does not serve the failback hold');
  await new Promise((r) => setTimeout(r, FAILBACK_HOLD_MS + 200));
  await feed({ wan: 'healthy', lte: 'healthy' }, 3);
  assert.equal(mainDefault(ip), 'eth0', 'fails back once the hold is served awake');
});
