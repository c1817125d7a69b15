/** Route component + conntrack flush against a fake kernel and a fake conntrack: after commit, after rollback, off, dry-run, missing binary. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AgentContext } from '../../../agent/runtime/component.ts';
import { systemRunner } from '../../../agent/base/exec.ts';
import { silentLogger } from '../../../agent/base/log.ts';
import { createIpActuator } from '../../../agent/route/actuator.ts';
import { createRouteComponent, type RouteDeps } from '../../../agent/route/component.ts';
import type { FakeIp } from '../../support/route-fake-ip.ts';
import { FakeConntrack, routeContext, seedDeadAgentSwitch, snapshot, twoUplinkKernel } from '../../support/route-context.ts';

/** Never the host: `ip` is the in-memory FakeIp, the revert helper runs /bin/true, conntrack is faked (or a path that does not exist). */
function deps(ip: FakeIp, ct: Partial<RouteDeps>, reachable = true, dryRun = false): RouteDeps {
  return {
    actuator: createIpActuator({ runner: ip, log: silentLogger(), dryRun }),
    k3sFacts: () => ({ configs: [], unitArgs: [], cmdlines: [], binary: false }),
    connector: async () => reachable,
    systemdRunning: false,
    ipPath: '/bin/true',
    conntrackRunner: null,
    conntrackPath: 'conntrack',
    ...ct,
  };
}

let seq = 0;
async function feed(ctx: AgentContext, comp: { evaluateNow(): Promise<void> }, health: Record<string, 'healthy' | 'down'>, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    ctx.bus.emit('link', snapshot(health, Date.now() + ++seq));
    await comp.evaluateNow();
  }
}

const flushOf = (src: string): string[] => [`conntrack -D -f ipv4 --reply-dst ${src} --src-nat`];
type CtDetails = {
  enabled: boolean;
  missing?: boolean;
  hint?: string | null;
  last?: { uplink: string; src: string; result: string; commands: string[] } | null;
};

test("failover flushes the old uplink's address after the confirm; failback flushes the backup's", async (t) => {
  const ctx = routeContext({ failbackHold: 500 });
  t.after(() => ctx.cleanup());
  const ip = twoUplinkKernel();
  const ct = new FakeConntrack();
  ct.deletes.set('conntrack -D -f ipv4 --reply-dst 10.0.1.2 --src-nat', 3);
  const c = createRouteComponent(ctx, deps(ip, { conntrackRunner: ct }));
  await c.start();
  assert.deepEqual(ct.log, [], 'no flush at start (nothing was abandoned)');
  await feed(ctx, c, { wan: 'down', lte: 'healthy' }, 3);
  assert.equal(c.details().active, 'lte');
  assert.deepEqual(ct.log, flushOf('10.0.1.2'));
  const d = c.details().conntrack as CtDetails;
  assert.deepEqual([d.enabled, d.last?.uplink, d.last?.result], [true, 'wan', 'ok']);
  assert.match(await ctx.metrics.metrics(), /linkward_route_conntrack_deleted_entries_total 3/);

  ct.log = [];
  await feed(ctx, c, { wan: 'healthy', lte: 'healthy' }, 2);
  await new Promise((r) => setTimeout(r, 600));
  await feed(ctx, c, { wan: 'healthy', lte: 'healthy' }, 1);
  assert.equal(c.details().active, 'wan');
  assert.deepEqual(ct.log, flushOf('10.0.2.2'), 'failback flushes lte, never wan');
  assert.match(await ctx.metrics.metrics(), /linkward_route_conntrack_flushes_total\{result="ok"\} 2/);
  await c.stop();
});

test("rollback flushes the failed target's address (flows NATed to it during the confirm window), never the one kept", async (t) => {
  const ctx = routeContext();
  t.after(() => ctx.cleanup());
  const ip = twoUplinkKernel();
  const ct = new FakeConntrack();
  const c = createRouteComponent(ctx, deps(ip, { conntrackRunner: ct }, false));
  await c.start();
  await feed(ctx, c, { wan: 'down', lte: 'healthy' }, 3);
  assert.equal(c.details().active, 'wan');
  assert.deepEqual(
    (c.details().history as { result: string }[]).map((x) => x.result),
    ['rolled-back'],
  );
  assert.deepEqual(ct.log, flushOf('10.0.2.2'));
  await c.stop();
});

test("a switch left pending by a dead agent: reverted at start, then the abandoned target's address is flushed", async (t) => {
  const ctx = routeContext();
  t.after(() => ctx.cleanup());
  const ip = twoUplinkKernel();
  seedDeadAgentSwitch(ctx, ip);
  const ct = new FakeConntrack();
  const c = createRouteComponent(ctx, deps(ip, { conntrackRunner: ct }));
  await c.start();
  assert.equal(c.details().active, 'wan');
  assert.deepEqual(ct.log, flushOf('10.0.2.2'));
  await c.stop();
});

test('flushConntrack: false runs no conntrack and says so in status', async (t) => {
  const ctx = routeContext({ flushConntrack: false });
  t.after(() => ctx.cleanup());
  const ct = new FakeConntrack();
  const c = createRouteComponent(ctx, deps(twoUplinkKernel(), { conntrackRunner: ct }));
  await c.start();
  await feed(ctx, c, { wan: 'down', lte: 'healthy' }, 3);
  assert.equal(c.details().active, 'lte');
  assert.deepEqual(ct.log, []);
  assert.deepEqual(c.details().conntrack, { enabled: false, reason: 'uplinks.policy.flushConntrack is false' });
  await c.stop();
});

test('dry-run: the switch and the flush are logged, nothing runs', async (t) => {
  const ctx = routeContext({ dryRun: true });
  t.after(() => ctx.cleanup());
  const ip = twoUplinkKernel();
  const ct = new FakeConntrack();
  const c = createRouteComponent(ctx, deps(ip, { conntrackRunner: ct }, true, true));
  await c.start();
  ip.log = [];
  await feed(ctx, c, { wan: 'down', lte: 'healthy' }, 3);
  assert.equal(c.details().active, 'lte');
  assert.deepEqual([ip.log, ct.log], [[], []]);
  const d = c.details().conntrack as CtDetails;
  assert.deepEqual([d.last?.result, d.last?.commands], ['dry-run', flushOf('10.0.1.2')]);
  await c.stop();
});

test('conntrack not installed: the switch still commits; status and metrics report it', async (t) => {
  const ctx = routeContext();
  t.after(() => ctx.cleanup());
  // The real runner, but a binary path that cannot exist (ENOENT): nothing touches the host's table.
  const c = createRouteComponent(ctx, deps(twoUplinkKernel(), { conntrackRunner: systemRunner, conntrackPath: '/nonexistent/linkward-test/conntrack' }));
  await c.start();
  await feed(ctx, c, { wan: 'down', lte: 'healthy' }, 3);
  assert.equal(c.details().active, 'lte');
  assert.deepEqual(
    (c.details().history as { result: string }[]).map((x) => x.result),
    ['confirmed'],
  );
  const d = c.details().conntrack as CtDetails;
  assert.equal(d.missing, true);
  assert.match(d.hint ?? '', /apt-get install conntrack/);
  assert.match(await ctx.metrics.metrics(), /linkward_route_conntrack_flushes_total\{result="missing"\} 1/);
  assert.equal(c.status().state, 'ok');
  await c.stop();
});

test('an injected kernel adapter without a conntrack runner never runs the real conntrack', async (t) => {
  const ctx = routeContext();
  t.after(() => ctx.cleanup());
  const c = createRouteComponent(ctx, deps(twoUplinkKernel(), {}));
  await c.start();
  assert.deepEqual(c.details().conntrack, { enabled: false, reason: 'no conntrack runner (kernel adapter injected)' });
  await c.stop();
});
