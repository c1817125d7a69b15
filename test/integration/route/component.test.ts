/** Route component against a fake kernel and a real revert helper: start, failover, confirm, rollback, k3s refusal, restart, HTTP. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { PassThrough } from 'node:stream';
import { daemonGet, daemonPost } from '../../../agent/cli/client.ts';
import { RouteUseExit, useCommand, type RouteUseApi } from '../../../agent/cli/route.ts';
import type { CommandRunner } from '../../../agent/base/exec.ts';
import { createIpActuator } from '../../../agent/route/actuator.ts';
import { createRouteComponent } from '../../../agent/route/component.ts';
import { createRouteStore } from '../../../agent/route/store.ts';
import { silentLogger } from '../../../agent/base/log.ts';
import {
  fakeKernelDeps as deps,
  feedRoute as feed,
  mainDefault,
  routeContext,
  seedDeadAgentSwitch,
  twoUplinkKernel,
  LTE,
  WAN,
} from '../../support/route-context.ts';

test('fewer than 2 uplinks: idle, but the single uplink is announced', async (t) => {
  const ctx = routeContext({}, [WAN]);
  t.after(() => ctx.cleanup());
  const ip = twoUplinkKernel();
  const seen: (string | null)[] = [];
  ctx.bus.on('active', (a) => seen.push(a));
  const c = createRouteComponent(
    ctx,
    deps(ip, () => true),
  );
  await c.start();
  assert.deepEqual(seen, ['wan']);
  assert.equal(c.status().state, 'disabled');
  assert.deepEqual(ip.log, []);
  await c.stop();
});

test('start installs tables, failover switches with confirm, failback returns; restart does not flap', async (t) => {
  const ctx = routeContext();
  t.after(() => ctx.cleanup());
  const ip = twoUplinkKernel();
  const seen: (string | null)[] = [];
  ctx.bus.on('active', (a) => seen.push(a));
  const c = createRouteComponent(
    ctx,
    deps(ip, () => true),
  );
  await c.start();
  assert.equal(mainDefault(ip), 'eth0');
  assert.deepEqual(seen, ['wan']);
  assert.match(ip.render(), /table 7101/);
  await feed(ctx, c, { wan: 'down', lte: 'healthy' }, 3);
  assert.equal(mainDefault(ip), 'wwan0');
  assert.deepEqual(seen, ['wan', 'lte']);
  const h = c.details().history as { result: string; reason: string }[];
  assert.deepEqual([h[0]?.reason, h[0]?.result], ['failover', 'confirmed']);
  const metrics = await ctx.metrics.metrics();
  assert.match(metrics, /linkward_route_switches_total\{reason="failover",result="confirmed"\} 1/);
  assert.match(metrics, /linkward_route_active_info\{uplink="lte"\} 1/);
  await c.stop();

  await c.stop();
});

test('a switch that cannot be confirmed is rolled back and the candidate held down', async (t) => {
  const ctx = routeContext();
  t.after(() => ctx.cleanup());
  const ip = twoUplinkKernel();
  const c = createRouteComponent(
    ctx,
    deps(ip, () => false),
  );
  await c.start();
  ip.log = [];
  await feed(ctx, c, { wan: 'down', lte: 'healthy' }, 3);
  assert.equal(mainDefault(ip), 'eth0');
  assert.deepEqual(ip.log, [
    'ip route replace default via 10.0.2.1 dev wwan0 metric 0 proto 77',
    'ip route replace default via 10.0.1.1 dev eth0 proto 77 metric 0',
  ]);
  const d = c.details();
  assert.equal(d.active, 'wan');
  assert.ok((d.holdDownUntil as Record<string, number>).lte! > Date.now());
  assert.deepEqual(
    (d.history as { result: string }[]).map((x) => x.result),
    ['rolled-back'],
  );
  assert.match(await ctx.metrics.metrics(), /linkward_route_rollbacks_total 1/);
  await c.stop();
});

test('unpinned k3s: route switching is refused and status says how to fix it', async (t) => {
  const ctx = routeContext();
  t.after(() => ctx.cleanup());
  const ip = twoUplinkKernel();
  const c = createRouteComponent(
    ctx,
    deps(ip, () => true, { configs: ['write-kubeconfig-mode: "0644"\n'], unitArgs: [['/usr/local/bin/k3s', 'server']], cmdlines: [], binary: true }),
  );
  await c.start();
  await feed(ctx, c, { wan: 'down', lte: 'healthy' }, 3);
  assert.deepEqual(ip.log, []);
  const s = c.status();
  assert.equal(s.state, 'degraded');
  assert.match(s.message ?? '', /does not pin --node-ip and --flannel-iface.*allowUnpinnedK3s/);
  await c.stop();
});

test('a switch left pending by a dead agent is reverted at start', async (t) => {
  const ctx = routeContext();
  t.after(() => ctx.cleanup());
  const ip = twoUplinkKernel();
  const store = seedDeadAgentSwitch(ctx, ip);
  const c = createRouteComponent(
    ctx,
    deps(ip, () => true),
  );
  await c.start();
  assert.equal(mainDefault(ip), 'eth0');
  assert.equal(c.details().active, 'wan');
  assert.equal(store.loadPending(), null);
  assert.match(JSON.stringify(c.details().history), /agent died before confirm/);
  await c.stop();
});

test('HTTP: GET /v1/route, POST /v1/route/use with expiry, POST /v1/route/auto', async (t) => {
  const ctx = routeContext();
  t.after(() => ctx.cleanup());
  const ip = twoUplinkKernel();
  const c = createRouteComponent(
    ctx,
    deps(ip, () => true),
  );
  await c.start();
  const routes = c.routes!();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const r = routes.find((x) => x.method === req.method && x.path === url.pathname);
    if (!r) return void res.writeHead(404).end();
    void r.handle(req, res, url);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const post = (p: string, body: unknown) => fetch(base + p, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  assert.equal((await post('/v1/route/use', { uplink: 'nope' })).status, 404);
  assert.equal((await post('/v1/route/use', { uplink: 'lte', for: 'soon' })).status, 400);
  assert.equal((await post('/v1/route/use', { uplink: 'lte', for: '30m' })).status, 202);
  await c.evaluateNow();
  assert.equal(mainDefault(ip), 'wwan0');
  const shown = (await (await fetch(base + '/v1/route')).json()) as { active: string; override: { uplink: string; untilMs: number } };
  assert.equal(shown.active, 'lte');
  assert.ok(shown.override.untilMs > Date.now() + 29 * 60_000);
  assert.equal((await post('/v1/route/auto', {})).status, 202);
  await c.evaluateNow();
  assert.equal(c.details().override, null);
  await c.stop();
});

test('idle-down NIC: kept down, brought up when the active uplink fails, used, and put down again after failback', async (t) => {
  // No failback hold: this test is about the NIC, and a hold would make it wait on the real clock.
  const ctx = routeContext({ failbackHold: 0 }, [WAN, { ...LTE, idleDown: true, warmup: 0 }]);
  t.after(() => ctx.cleanup());
  const ip = twoUplinkKernel();
  const c = createRouteComponent(
    ctx,
    deps(ip, () => true),
  );
  await c.start();
  assert.match(ip.render(), /ip link wwan0 down/);
  assert.ok(!ip.routes.some((r) => r.table === '7101'), 'no table route through a down NIC');
  await feed(ctx, c, { wan: 'down', lte: 'down' }, 1);
  assert.match(ip.render(), /ip link wwan0 up/);
  await feed(ctx, c, { wan: 'down', lte: 'healthy' }, 2);
  assert.equal(mainDefault(ip), 'wwan0');
  assert.match(ip.render(), /default via 10\.0\.2\.1 dev wwan0 table 7101/);
  await feed(ctx, c, { wan: 'healthy', lte: 'healthy' }, 3);
  assert.equal(mainDefault(ip), 'eth0');
  await feed(ctx, c, { wan: 'healthy', lte: 'healthy' }, 1);
  assert.match(ip.render(), /ip link wwan0 down/);
  await c.stop();
});

test('an idle-down NIC whose `ip link set down` failed is not recorded as taken down by linkward (results, not plans)', async (t) => {
  const ctx = routeContext({}, [WAN, { ...LTE, idleDown: true, warmup: 0 }]);
  t.after(() => ctx.cleanup());
  const ip = twoUplinkKernel();
  ip.failures.set('ip link set dev wwan0 down', 'RTNETLINK answers: Operation not permitted');
  const c = createRouteComponent(
    ctx,
    deps(ip, () => true),
  );
  await c.start();
  assert.doesNotMatch(ip.render(), /ip link wwan0 down/, 'the fake refused the command');
  assert.match(String(c.status().message ?? ''), /ip command\(s\) failed/);
  assert.deepEqual(createRouteStore(ctx.stateDb).loadDownByUs(), [], 'wwan0 not saved as taken down by linkward');
  ip.failures.clear();
  await c.evaluateNow();
  await c.stop();
});

test('unchanged link snapshots do not re-read the kernel; a change does (each read is 3 ip processes)', async (t) => {
  const ctx = routeContext();
  t.after(() => ctx.cleanup());
  const ip = twoUplinkKernel();
  let reads = 0;
  const counting: CommandRunner = {
    run: (cmd, args) => {
      if (args.includes('-json')) reads++;
      return ip.run(cmd, args);
    },
  };
  const c = createRouteComponent(ctx, { ...deps(ip, () => true), actuator: createIpActuator({ runner: counting, log: silentLogger() }) });
  await c.start();
  await feed(ctx, c, { wan: 'healthy', lte: 'healthy' }, 1);
  const settled = reads;
  assert.ok(settled > 0, 'start reads the kernel');
  await feed(ctx, c, { wan: 'healthy', lte: 'healthy' }, 10);
  assert.equal(reads, settled, 'ten identical snapshots: no kernel read');
  await feed(ctx, c, { wan: 'down', lte: 'healthy' }, 3);
  assert.equal(mainDefault(ip), 'wwan0');
  assert.ok(reads > settled, 'a switch reads and applies');
  await c.stop();
});

test('drift is repaired by the reapply tick even when every snapshot is identical', async (t) => {
  const ctx = routeContext({ reapplyInterval: 200 });
  t.after(() => ctx.cleanup());
  const ip = twoUplinkKernel();
  const c = createRouteComponent(
    ctx,
    deps(ip, () => true),
  );
  await c.start();
  await feed(ctx, c, { wan: 'healthy', lte: 'healthy' }, 1);
  assert.match(ip.render(), /table 7101/);
  ip.routes = ip.routes.filter((r) => String(r.table) !== '7101');
  assert.doesNotMatch(ip.render(), /table 7101/, "drift: lte's table route deleted by someone else");
  let repaired = false;
  // Bounded: at most 40 identical snapshots, 50 ms apart (2 s, ten reapply intervals).
  for (let i = 0; i < 40 && !repaired; i++) {
    await feed(ctx, c, { wan: 'healthy', lte: 'healthy' }, 1);
    await new Promise((r) => setTimeout(r, 50));
    repaired = /table 7101/.test(ip.render());
  }
  assert.ok(repaired, "lte's table route is back");
  await c.stop();
});

test('route use end to end: the CLI sees confirmed (exit 0), then a rolled-back switch back to wan with its cause (exit 1), and the revert helper was pre-started', async (t) => {
  const ctx = routeContext();
  t.after(() => ctx.cleanup());
  const ip = twoUplinkKernel();
  let reachable = true;
  const c = createRouteComponent(
    ctx,
    deps(ip, () => reachable),
  );
  await c.start();
  const helper = c.details().revertHelper as { pid: number } | null;
  assert.ok(helper && helper.pid > 0, 'revert helper started with the component');
  const routes = c.routes!();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const r = routes.find((x) => x.method === req.method && x.path === url.pathname);
    if (!r) return void res.writeHead(404).end();
    void r.handle(req, res, url);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const target = { baseUrl: `http://127.0.0.1:${(server.address() as { port: number }).port}`, token: undefined };
  const api: RouteUseApi = {
    post: (body) => daemonPost(target, '/v1/route/use', body),
    get: () => daemonGet(target, '/v1/route'),
    sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 50))),
    monoMs: () => performance.now(),
  };
  const text = (): { s: PassThrough; text: () => string } => {
    const s = new PassThrough();
    let v = '';
    s.on('data', (d: Buffer) => (v += d.toString()));
    return { s, text: () => v };
  };
  const out = text();
  assert.equal(await useCommand('lte', {}, api, out.s, text().s), RouteUseExit.CONFIRMED);
  assert.match(out.text(), /^lte: confirmed \(reached 10\.99\.0\.1:443\)/);
  assert.equal(mainDefault(ip), 'wwan0');
  assert.equal(await useCommand('lte', {}, api, text().s, text().s), RouteUseExit.CONFIRMED, 'already active');
  reachable = false;
  const err = text();
  const json = text();
  assert.equal(await useCommand('wan', { json: true }, api, json.s, err.s), RouteUseExit.ROLLED_BACK);
  const decided = JSON.parse(json.text()) as { state: string; cause: string; detail: string };
  assert.equal(decided.state, 'rolled-back');
  assert.equal(decided.cause, 'unreachable');
  assert.match(decided.detail, /did not answer.*wan held down for 300s/);
  assert.equal(mainDefault(ip), 'wwan0', 'rolled back to lte');
  assert.match(await ctx.metrics.metrics(), /linkward_route_rollback_causes_total\{cause="unreachable"\} 1/);
  assert.match(await ctx.metrics.metrics(), /linkward_route_revert_arm_duration_seconds_count 2/);
  await c.stop();
});
