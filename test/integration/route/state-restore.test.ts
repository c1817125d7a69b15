/** Route component against a fake kernel: unknown reads are reported and change nothing; stop on the backup restores the host default. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AgentContext } from '../../../agent/runtime/component.ts';
import { silentLogger } from '../../../agent/base/log.ts';
import { createIpActuator } from '../../../agent/route/actuator.ts';
import { createRouteComponent, type RouteDeps } from '../../../agent/route/component.ts';
import type { FakeIp } from '../../support/route-fake-ip.ts';
import { routeContext, snapshot, twoUplinkKernel } from '../../support/route-context.ts';

/** The revert helper runs /bin/true, never the host's ip. */
function deps(ip: FakeIp, registry?: AgentContext['metrics']): RouteDeps {
  return {
    actuator: createIpActuator({ runner: ip, log: silentLogger(), ...(registry ? { registry } : {}) }),
    k3sFacts: () => ({ configs: [], unitArgs: [], cmdlines: [], binary: false }),
    connector: async () => true,
    systemdRunning: false,
    ipPath: '/bin/true',
    conntrackRunner: null,
    conntrackPath: 'conntrack',
  };
}

let seq = 0;
async function feed(ctx: AgentContext, comp: { evaluateNow(): Promise<void> }, health: Record<string, 'healthy' | 'down'>, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    ctx.bus.emit('link', snapshot(health, Date.now() + ++seq));
    await comp.evaluateNow();
  }
}

test('an empty ip addr read: status degraded with LW_ROUTE_STATE_UNKNOWN, nothing deleted, counted; a good read clears it', async (t) => {
  const ctx = routeContext({ restoreOnStop: false });
  t.after(() => ctx.cleanup());
  const ip = twoUplinkKernel();
  const c = createRouteComponent(ctx, deps(ip, ctx.metrics));
  await c.start();
  const golden = ip.render();
  assert.match(golden, /ip rule 7101: from 10\.0\.2\.2 lookup 7101/);
  ip.log = [];
  ip.readFaults.push({ prefix: 'ip -json addr', fault: 'no-loopback', times: 1_000 });
  await feed(ctx, c, { wan: 'healthy', lte: 'down' }, 3);
  assert.equal(c.status().state, 'degraded');
  assert.match(c.status().message ?? '', /kernel routing state unknown \(addrs: .*no loopback/);
  assert.deepEqual(ip.log, [], 'no ip command on unknown state');
  assert.equal(ip.render(), golden);
  assert.match(await ctx.metrics.metrics(), /linkward_route_state_unknown_total\{part="addrs",reason="incomplete"\} [1-9]/);
  ip.readFaults = [];
  await feed(ctx, c, { wan: 'healthy', lte: 'down' }, 1);
  assert.equal(c.status().state, 'ok', c.status().message);
  await c.stop();
});

test("stop while on the backup restores the host default (restoreOnStop default); off, linkward's route stays", async (t) => {
  for (const restoreOnStop of [true, false]) {
    const ctx = routeContext({ restoreOnStop });
    t.after(() => ctx.cleanup());
    const ip = twoUplinkKernel();
    const before = ip.render();
    const c = createRouteComponent(ctx, deps(ip));
    await c.start();
    await feed(ctx, c, { wan: 'down', lte: 'healthy' }, 3);
    assert.match(ip.render(), /ip route default via 10\.0\.2\.1 dev wwan0 proto 77\n/);
    await c.stop();
    const main = ip
      .render()
      .split('\n')
      .filter((l) => / route default /.test(l) && !/ table /.test(l))
      .join('\n');
    if (restoreOnStop)
      assert.equal(
        main,
        before
          .split('\n')
          .filter((l) => / route default /.test(l))
          .join('\n'),
        'only the host DHCP default',
      );
    else assert.match(main, /default via 10\.0\.2\.1 dev wwan0 proto 77/);
  }
});
