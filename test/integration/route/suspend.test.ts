/** The route component across a system suspend: a failback hold counts awake time, so no failback is served by the sleep. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { systemClock, type Clock } from '../../../agent/base/clock.ts';
import { silentLogger } from '../../../agent/base/log.ts';
import { createIpActuator } from '../../../agent/route/actuator.ts';
import { createRouteComponent } from '../../../agent/route/component.ts';
import type { FakeIp } from '../../support/route-fake-ip.ts';
import { LTE, snapshot, twoUplinkKernel, WAN } from '../../support/route-context.ts';
import { makeTestContext } from '../../support/context.ts';

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

const mainDefault = (ip: FakeIp): string | undefined => ip.routes.find((r) => r.table === 'main' && r.dst === 'default' && r.metric === 0)?.dev;

test('a failback hold half served when the system sleeps 8 h is still served awake after it: no failback on waking', async (t) => {
  const clock = sleepyClock();
  const ctx = makeTestContext(
    {
      uplinks: {
        policy: { candidateSamples: 2, confirmTimeout: 400, revertGrace: 2000, failbackHold: FAILBACK_HOLD_MS, minSwitchInterval: 0 },
        list: [WAN, LTE],
      },
    } as never,
    { clock },
  );
  t.after(() => rmSync(ctx.stateDir, { recursive: true, force: true }));
  const ip = twoUplinkKernel();
  const c = createRouteComponent(ctx, {
    actuator: createIpActuator({ runner: ip, log: silentLogger() }),
    k3sFacts: () => ({ configs: [], unitArgs: [], cmdlines: [], binary: false }),
    connector: async () => true,
    systemdRunning: false,
    ipPath: '/bin/true', // the revert helper never touches the host
    conntrackRunner: null,
    conntrackPath: 'conntrack',
  });
  t.after(() => c.stop());
  let seq = 0;
  const feed = async (health: Record<string, 'healthy' | 'down'>, n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      ctx.bus.emit('link', snapshot(health, clock.nowMs() + ++seq));
      await c.evaluateNow();
    }
  };
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
