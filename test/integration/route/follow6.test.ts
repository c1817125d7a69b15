/** IPv6 follow-up: a backup whose IPv6 router appears only after the switch gets IPv6 by a confirmed move of its own, never by the re-apply. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentContext } from '../../../agent/runtime/component.ts';
import { silentLogger } from '../../../agent/base/log.ts';
import { createIpActuator } from '../../../agent/route/actuator.ts';
import { createRouteComponent, type RouteDeps } from '../../../agent/route/component.ts';
import type { Endpoint } from '../../../agent/route/confirm.ts';
import type { PolicyState } from '../../../agent/route/policy.ts';
import { createRouteStore, type PendingSwitch, type RouteStore } from '../../../agent/route/store.ts';
import { FakeIp } from '../../support/route-fake-ip.ts';
import type { TestContext } from '../../support/context.ts';
import { dualStackKernel, routeContext, snapshot } from '../../support/route-context.ts';

// wan has a static IPv6 router; lte learns its router from a router advertisement (gateway6 auto)
const WAN6 = { name: 'wan', interface: 'eth0', gateway: '10.0.1.1', gateway6: 'fe80::1', priority: 10, targets: ['10.99.0.1:443'] };
const LTE6 = { name: 'lte', interface: 'wwan0', gateway: '10.0.2.1', gateway6: 'auto', priority: 20, targets: ['10.99.0.1:443'] };
/** Policy state a previous run left while on lte. */
const ON_LTE: PolicyState = { active: 'lte', tracks: {}, holdDownUntil: {}, switchLog: [], lastSwitchMs: null, override: null, awake: {} };
const CONFIRM = ['10.99.0.2:443', '[2001:db8:99::2]:443'];
/** The re-apply interval: while a held uplink's IPv6 side is unresolved, the kernel is read for it this often. */
const RECHECK_MS = 1_000;
const recheck = (): Promise<void> => new Promise((r) => setTimeout(r, RECHECK_MS + 100));
/** How long a failed IPv6 follow-up holds that uplink's IPv6 (short, so the test sees the retry). */
const HOLD_DOWN_MS = 1_500;

const kernel = dualStackKernel;

function deps(ip: FakeIp, answers: (ep: Endpoint) => boolean, asked: string[]): RouteDeps {
  return {
    actuator: createIpActuator({ runner: ip, log: silentLogger(), families: [4, 6], sleep: async () => undefined }),
    k3sFacts: () => ({ configs: [], unitArgs: [], cmdlines: [], binary: false }),
    connector: async (ep) => {
      asked.push(ep.host);
      return answers(ep);
    },
    systemdRunning: false,
    ipPath: '/bin/true', // the revert helper never touches the host
    conntrackRunner: null,
    conntrackPath: 'conntrack',
  };
}

/** linkward's own IPv6 main default (metric 1), as `dev via`. */
const own6 = (ip: FakeIp): string | undefined => {
  const r = ip.routes.find((x) => x.family === 6 && x.table === 'main' && x.dst === 'default' && x.protocol === '77');
  return r ? `${r.dev} via ${r.gateway}` : undefined;
};

/**
 * What a dead agent leaves mid-switch while on lte: the pending switch, its armed revert plan (the helper runs
 * /bin/true, never the host's ip) and the saved policy state. Returns the store.
 */
function seedDeadAgent(ctx: TestContext, p: Pick<PendingSwitch, 'from' | 'to' | 'reason'>, commands: string[][]): RouteStore {
  const planFile = join(ctx.stateDir, 'route-revert-1.json');
  writeFileSync(planFile, JSON.stringify({ deadlineMs: Date.now() + 60_000, cmd: '/bin/true', commands }));
  const store = createRouteStore(ctx.stateDb);
  store.savePolicy(ON_LTE);
  store.savePending({ ...p, planFile, startedMs: Date.now() });
  return store;
}

let seq = 0;
async function feed(ctx: AgentContext, c: { evaluateNow(): Promise<void> }, health: Record<string, 'healthy' | 'down'>, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    ctx.bus.emit('link', snapshot(health, Date.now() + ++seq));
    await c.evaluateNow();
  }
}

/**
 * Feeds snapshots until `cond` holds, at most 4 re-apply intervals: the ticker's own evaluation may have found the held
 * uplink's IPv6 side unresolved just before the test changed the kernel, deferring the follow-up by up to RECHECK_MS.
 */
async function feedUntil(
  ctx: AgentContext,
  c: { evaluateNow(): Promise<void> },
  health: Record<string, 'healthy' | 'down'>,
  cond: () => boolean,
): Promise<void> {
  const end = Date.now() + 4 * RECHECK_MS;
  for (;;) {
    await feed(ctx, c, health, 1);
    if (cond() || Date.now() > end) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a backup whose IPv6 router appears after the switch: IPv6 moves only by its own confirm; a failed one is rolled back and held', async (t) => {
  const ctx = routeContext({ reapplyInterval: RECHECK_MS, confirmTargets: CONFIRM, holdDown: HOLD_DOWN_MS }, [WAN6, LTE6]);
  t.after(() => ctx.cleanup());
  const ip = kernel();
  let v6works = false;
  const asked: string[] = [];
  const c = createRouteComponent(
    ctx,
    deps(ip, (ep) => !ep.host.includes(':') || v6works, asked),
  );
  await c.start();
  assert.equal(own6(ip), 'eth0 via fe80::1', 'wan carries IPv6 at start (the status quo)');

  // wan dies; lte has no IPv6 router yet (no RA): the switch moves and confirms IPv4 only
  await feed(ctx, c, { wan: 'down', lte: 'healthy' }, 3);
  assert.equal(c.details().active, 'lte');
  assert.equal(own6(ip), undefined, "linkward's IPv6 default left wan with IPv4 (the host's RA default remains)");
  await recheck();

  // the RA arrives: lte's router is known now. Its IPv6 is broken: the follow-up's confirm fails, IPv6 is rolled back
  ip.routes.push({ family: 6, table: 'main', dst: 'default', gateway: 'fe80::2', dev: 'wwan0', metric: 1100, protocol: 'ra' });
  asked.length = 0;
  await feedUntil(ctx, c, { wan: 'down', lte: 'healthy' }, () => asked.includes('2001:db8:99::2'));
  assert.ok(asked.includes('2001:db8:99::2'), `the follow-up confirmed through IPv6 (asked ${asked.join(', ')})`);
  assert.equal(own6(ip), undefined, 'rolled back: IPv6 not moved to lte');
  let h = c.details().history as { from: string; to: string; reason: string; result: string }[];
  assert.deepEqual([h[0]?.reason, h[0]?.from, h[0]?.to, h[0]?.result], ['ipv6', 'lte', 'lte', 'rolled-back']);
  assert.equal(c.details().active, 'lte', 'IPv4 stays on lte: a failed IPv6 follow-up is not a failed uplink');
  assert.ok((c.details().ipv6 as { heldUntil: Record<string, number> }).heldUntil.lte! > Date.now());

  // the periodic re-apply during the hold does not move IPv6 either
  await feed(ctx, c, { wan: 'down', lte: 'healthy' }, 2);
  assert.equal(own6(ip), undefined, 'the re-apply never moves IPv6 unconfirmed');

  // IPv6 works through lte now; after the hold the next follow-up confirms and moves it
  v6works = true;
  await new Promise((r) => setTimeout(r, HOLD_DOWN_MS + 100));
  await feedUntil(ctx, c, { wan: 'down', lte: 'healthy' }, () => own6(ip) === 'wwan0 via fe80::2');
  assert.equal(own6(ip), 'wwan0 via fe80::2');
  h = c.details().history as { from: string; to: string; reason: string; result: string }[];
  assert.deepEqual([h[0]?.reason, h[0]?.result], ['ipv6', 'confirmed']);
  assert.match(await ctx.metrics.metrics(), /linkward_route_switches_total\{reason="ipv6",result="confirmed"\} 1/);
  await c.stop();
});

test('a restart during the hold of a failed IPv6 follow-up keeps the hold: no new follow-up until it ends', async (t) => {
  // longer than the restart takes even on a loaded machine, so the hold is still running after it
  const holdMs = 6_000;
  const ctx = routeContext({ reapplyInterval: RECHECK_MS, confirmTargets: CONFIRM, holdDown: holdMs }, [WAN6, LTE6]);
  t.after(() => ctx.cleanup());
  const ip = kernel();
  let v6works = false;
  const asked: string[] = [];
  const answers = (ep: Endpoint): boolean => !ep.host.includes(':') || v6works;
  const first = createRouteComponent(ctx, deps(ip, answers, asked));
  await first.start();
  await feed(ctx, first, { wan: 'down', lte: 'healthy' }, 3);
  await recheck();
  ip.routes.push({ family: 6, table: 'main', dst: 'default', gateway: 'fe80::2', dev: 'wwan0', metric: 1100, protocol: 'ra' });
  await feedUntil(
    ctx,
    first,
    { wan: 'down', lte: 'healthy' },
    () => (first.details().ipv6 as { heldUntil: Record<string, number> }).heldUntil.lte !== undefined,
  );
  const held = (first.details().ipv6 as { heldUntil: Record<string, number> }).heldUntil.lte;
  assert.ok(held !== undefined && held > Date.now(), 'the failed follow-up holds lte');
  await first.stop();

  // IPv6 works through lte now, but the hold is not over: the restarted agent must not try again yet
  v6works = true;
  const second = createRouteComponent(ctx, deps(ip, answers, asked));
  await second.start();
  assert.equal((second.details().ipv6 as { heldUntil: Record<string, number> }).heldUntil.lte, held, 'the hold came back from state.db');
  asked.length = 0;
  await feed(ctx, second, { wan: 'down', lte: 'healthy' }, 2);
  assert.ok(Date.now() < held, 'still within the hold (else this test proves nothing)');
  assert.ok(!asked.includes('2001:db8:99::2'), `no follow-up during the hold (asked ${asked.join(', ')})`);
  assert.equal(own6(ip), undefined);

  // once it is over, the follow-up runs and moves IPv6
  await new Promise((r) => setTimeout(r, held - Date.now() + 100));
  await feedUntil(ctx, second, { wan: 'down', lte: 'healthy' }, () => own6(ip) === 'wwan0 via fe80::2');
  assert.equal(own6(ip), 'wwan0 via fe80::2');
  assert.deepEqual((second.details().ipv6 as { heldUntil: Record<string, number> }).heldUntil, {});
  await second.stop();
});

test('IPv6 holds in state.db: saved before the follow-up runs, lifted when it confirms; a saved hold never outlasts holdDown', async (t) => {
  const holdMs = 60_000;
  const ctx = routeContext({ reapplyInterval: RECHECK_MS, confirmTargets: CONFIRM, holdDown: holdMs }, [WAN6, LTE6]);
  t.after(() => ctx.cleanup());
  const store = createRouteStore(ctx.stateDb);
  // a hold saved while the wall clock was 30 days ahead (or with a longer holdDown)
  store.saveIpv6Holds({ sat: Date.now() + 30 * 86_400_000 });
  const ip = kernel();
  const duringConfirm: Record<string, number>[] = [];
  const c = createRouteComponent(
    ctx,
    deps(
      ip,
      (ep) => {
        if (ep.host.includes(':')) duringConfirm.push(store.loadIpv6Holds());
        return true;
      },
      [],
    ),
  );
  await c.start();
  const restored = (c.details().ipv6 as { heldUntil: Record<string, number> }).heldUntil.sat!;
  assert.ok(restored <= Date.now() + holdMs, `restored hold capped at holdDown (${restored - Date.now()} ms left)`);
  await feed(ctx, c, { wan: 'down', lte: 'healthy' }, 3);
  await recheck();
  ip.routes.push({ family: 6, table: 'main', dst: 'default', gateway: 'fe80::2', dev: 'wwan0', metric: 1100, protocol: 'ra' });
  await feedUntil(ctx, c, { wan: 'down', lte: 'healthy' }, () => own6(ip) === 'wwan0 via fe80::2');
  assert.equal(own6(ip), 'wwan0 via fe80::2', 'the follow-up confirmed and moved IPv6');
  assert.ok(duringConfirm.length > 0 && duringConfirm.every((h) => (h.lte ?? 0) > Date.now()), 'while it ran, a kill would have left lte held');
  assert.equal(store.loadIpv6Holds().lte, undefined, 'lifted once it confirmed');
  await c.stop();
});

test('a switch to a backup whose IPv6 is known moves and confirms both families at once: no follow-up', async (t) => {
  const ctx = routeContext({ reapplyInterval: RECHECK_MS, confirmTargets: CONFIRM }, [WAN6, LTE6]);
  t.after(() => ctx.cleanup());
  const ip = kernel();
  ip.routes.push({ family: 6, table: 'main', dst: 'default', gateway: 'fe80::2', dev: 'wwan0', metric: 1100, protocol: 'ra' });
  const asked: string[] = [];
  const c = createRouteComponent(
    ctx,
    deps(ip, () => true, asked),
  );
  await c.start();
  await feed(ctx, c, { wan: 'down', lte: 'healthy' }, 3);
  assert.equal(own6(ip), 'wwan0 via fe80::2');
  const h = c.details().history as { reason: string }[];
  assert.ok(!h.some((x) => x.reason === 'ipv6'), JSON.stringify(h));
  await c.stop();
});

test('an IPv6 follow-up left pending by a dead agent: reverted at start, the uplink kept for IPv4, its IPv6 held', async (t) => {
  const ctx = routeContext({ reapplyInterval: RECHECK_MS, confirmTargets: CONFIRM, holdDown: 60_000 }, [WAN6, LTE6]);
  t.after(() => ctx.cleanup());
  const ip = kernel();
  // the dead agent was on lte (IPv4) and had just put IPv6 on lte for its follow-up, its revert plan armed
  ip.routes.push(
    { table: 'main', dst: 'default', gateway: '10.0.2.1', dev: 'wwan0', metric: 0, protocol: '77' },
    { family: 6, table: 'main', dst: 'default', gateway: 'fe80::2', dev: 'wwan0', metric: 1100, protocol: 'ra' },
    { family: 6, table: 'main', dst: 'default', gateway: 'fe80::2', dev: 'wwan0', metric: 1, protocol: '77' },
  );
  const store = seedDeadAgent(ctx, { from: 'lte', to: 'lte', reason: 'ipv6' }, [['-6', 'route', 'del', 'default', 'dev', 'wwan0', 'metric', '1']]);
  const asked: string[] = [];
  const c = createRouteComponent(
    ctx,
    deps(ip, () => true, asked),
  );
  await c.start();
  assert.equal(store.loadPending(), null);
  assert.equal(c.details().active, 'lte', 'IPv4 stays on lte: not a failed uplink');
  assert.deepEqual(c.details().holdDownUntil, {}, 'no hold-down of lte itself');
  assert.ok((c.details().ipv6 as { heldUntil: Record<string, number> }).heldUntil.lte! > Date.now(), 'its IPv6 is held');
  assert.equal(own6(ip), undefined, 'IPv6 reverted off lte');
  await feed(ctx, c, { wan: 'down', lte: 'healthy' }, 2);
  assert.equal(own6(ip), undefined, 'and not moved back by the re-apply while held');
  await c.stop();
});

// Cases from the review of the follow-up (each moved IPv6 without a confirm, or touched routes it must not)
const LTE6S = { ...LTE6, gateway6: 'fe80::2' };
const v4only = (ep: Endpoint): boolean => !ep.host.includes(':');
/** Sets (or removes) a link's global IPv6 address, with its connected route as the kernel adds it (the read cross-checks). */
const addr6 = (ip: FakeIp, dev: string, cidr: string | undefined): void => {
  (ip as unknown as { links: { name: string; addr6?: string }[] }).links.find((l) => l.name === dev)!.addr6 = cidr;
  const net = cidr ? `${cidr.split('/')[0]!.split(':').slice(0, 3).join(':')}::/64` : '';
  if (cidr && !ip.routes.some((r) => r.family === 6 && r.dst === net))
    ip.routes.push({ family: 6, table: 'main', dst: net, dev, metric: 256, protocol: 'kernel' });
};

test('route switching refused (manageRoutes false): no follow-up, no route touched', async (t) => {
  const ctx = routeContext({ reapplyInterval: RECHECK_MS, confirmTargets: CONFIRM, manageRoutes: false }, [WAN6, LTE6]);
  t.after(() => ctx.cleanup());
  const ip = kernel();
  const c = createRouteComponent(
    ctx,
    deps(ip, () => true, []),
  );
  await c.start();
  await feed(ctx, c, { wan: 'healthy', lte: 'healthy' }, 2);
  assert.deepEqual(
    ip.log.filter((l) => / (replace|add|del|flush) /.test(l)),
    [],
  );
  assert.equal((c.details().history as unknown[]).length, 0);
  await c.stop();
});

test('a failback to an uplink whose IPv6 resolves later: the re-apply does not move it, a follow-up asks first', async (t) => {
  const ctx = routeContext({ reapplyInterval: RECHECK_MS, confirmTargets: CONFIRM, holdDown: 60_000 }, [WAN6, LTE6]);
  t.after(() => ctx.cleanup());
  const ip = kernel();
  const asked: string[] = [];
  const c = createRouteComponent(ctx, deps(ip, v4only, asked));
  await c.start();
  await feed(ctx, c, { wan: 'down', lte: 'healthy' }, 3);
  addr6(ip, 'eth0', undefined); // a link flap: wan's IPv6 address is gone for now
  await feed(ctx, c, { wan: 'healthy', lte: 'healthy' }, 2);
  await new Promise((r) => setTimeout(r, 1_200)); // failbackHold
  await feed(ctx, c, { wan: 'healthy', lte: 'healthy' }, 3);
  assert.equal(c.details().active, 'wan');
  asked.length = 0;
  addr6(ip, 'eth0', 'fd00:1::2/64'); // back, but its IPv6 path is broken
  await recheck();
  await feedUntil(ctx, c, { wan: 'healthy', lte: 'healthy' }, () => asked.includes('2001:db8:99::2'));
  assert.ok(asked.includes('2001:db8:99::2'), `a follow-up confirmed IPv6 (asked ${asked.join(', ')})`);
  assert.equal(own6(ip), undefined, 'not moved unconfirmed');
  await c.stop();
});

test('a restart on the backup with no IPv6 default anywhere: its IPv6, once resolved, moves only by a follow-up', async (t) => {
  const ctx = routeContext({ reapplyInterval: RECHECK_MS, confirmTargets: CONFIRM, holdDown: 60_000 }, [WAN6, LTE6S]);
  t.after(() => ctx.cleanup());
  const ip = new FakeIp().addLink('eth0', '10.0.1.2/24', true).addLink('wwan0', '10.0.2.2/24', true);
  ip.routes.push({ table: 'main', dst: 'default', gateway: '10.0.2.1', dev: 'wwan0', metric: 0, protocol: '77' });
  createRouteStore(ctx.stateDb).savePolicy(ON_LTE);
  const asked: string[] = [];
  const c = createRouteComponent(ctx, deps(ip, v4only, asked));
  await c.start();
  addr6(ip, 'wwan0', 'fd00:2::2/64'); // SLAAC finishes
  await recheck();
  await feedUntil(ctx, c, { wan: 'down', lte: 'healthy' }, () => asked.includes('2001:db8:99::2'));
  assert.ok(asked.includes('2001:db8:99::2'), `asked ${asked.join(', ')}`);
  assert.equal(own6(ip), undefined);
  await c.stop();
});

test('a failed follow-up on a host that had no IPv6 default: the rollback removes the one it added', async (t) => {
  const ctx = routeContext({ reapplyInterval: RECHECK_MS, confirmTargets: CONFIRM, holdDown: 60_000 }, [WAN6, LTE6S]);
  t.after(() => ctx.cleanup());
  const ip = new FakeIp().addLink('eth0', '10.0.1.2/24', true).addLink('wwan0', '10.0.2.2/24', true);
  ip.routes.push({ table: 'main', dst: 'default', gateway: '10.0.1.1', dev: 'eth0', metric: 100, protocol: 'dhcp' });
  const c = createRouteComponent(ctx, deps(ip, v4only, []));
  await c.start();
  await feed(ctx, c, { wan: 'down', lte: 'healthy' }, 3);
  addr6(ip, 'wwan0', 'fd00:2::2/64');
  await recheck();
  await feedUntil(ctx, c, { wan: 'down', lte: 'healthy' }, () => (c.details().history as { reason: string }[])[0]?.reason === 'ipv6');
  const h = c.details().history as { reason: string; result: string }[];
  assert.deepEqual([h[0]?.reason, h[0]?.result], ['ipv6', 'rolled-back']);
  assert.equal(own6(ip), undefined, 'no IPv6 default left behind');
  await c.stop();
});

test('a crash mid-failback from an uplink whose IPv6 was held: recovery does not install that IPv6 unconfirmed', async (t) => {
  const ctx = routeContext({ reapplyInterval: RECHECK_MS, confirmTargets: CONFIRM, holdDown: 60_000 }, [WAN6, LTE6]);
  t.after(() => ctx.cleanup());
  const ip = kernel();
  ip.routes.push(
    { family: 6, table: 'main', dst: 'default', gateway: 'fe80::2', dev: 'wwan0', metric: 1100, protocol: 'ra' },
    // the dead agent had applied its failback lte -> wan in both families
    { table: 'main', dst: 'default', gateway: '10.0.1.1', dev: 'eth0', metric: 0, protocol: '77' },
    { family: 6, table: 'main', dst: 'default', gateway: 'fe80::1', dev: 'eth0', metric: 1, protocol: '77' },
  );
  seedDeadAgent(ctx, { from: 'lte', to: 'wan', reason: 'failback' }, [
    ['route', 'replace', 'default', 'via', '10.0.2.1', 'dev', 'wwan0', 'metric', '0'],
    ['-6', 'route', 'del', 'default', 'dev', 'eth0', 'metric', '1'],
  ]);
  const asked: string[] = [];
  const c = createRouteComponent(ctx, deps(ip, v4only, asked));
  await c.start();
  assert.equal(c.details().active, 'lte');
  assert.notEqual(own6(ip), 'wwan0 via fe80::2', 'lte IPv6 not installed by the recovery');
  await feedUntil(ctx, c, { wan: 'down', lte: 'healthy' }, () => asked.includes('2001:db8:99::2'));
  assert.ok(asked.includes('2001:db8:99::2'), `its IPv6 moves only by a follow-up (asked ${asked.join(', ')})`);
  assert.notEqual(own6(ip), 'wwan0 via fe80::2', 'which failed: not moved');
  await c.stop();
});
