/** `linkward route` CLI: cleanup against a fake kernel (dry-run and real), the `show` rendering, and `use` outcomes and exit codes against a fake daemon. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { cleanupCommand, renderRouteShow, RouteUseExit, useCommand, type RouteUseApi } from '../../../agent/cli/route.ts';
import type { DaemonResponse } from '../../../agent/cli/client.ts';
import { silentLogger } from '../../../agent/base/log.ts';
import { createIpActuator } from '../../../agent/route/actuator.ts';
import Database from 'better-sqlite3';
import { createRouteStore } from '../../../agent/route/store.ts';
import { FakeIp } from '../../support/route-fake-ip.ts';
import { twoUplinkKernel } from '../../support/route-context.ts';

function sink(): { s: PassThrough; text: () => string } {
  const s = new PassThrough();
  let t = '';
  s.on('data', (d: Buffer) => (t += d.toString()));
  return { s, text: () => t };
}

test('route cleanup removes linkward tables, rules and its default route (the host default stays); --dry-run only prints', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lwr-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cfg = join(dir, 'config.yaml');
  writeFileSync(
    cfg,
    `state: { dir: ${dir} }\nuplinks:\n  - { name: wan, interface: eth0, gateway: 10.0.1.1 }\n  - { name: lte, interface: wwan0, gateway: 10.0.2.1 }\n`,
  );
  const ip = twoUplinkKernel();
  ip.routes.push(
    { table: '7100', dst: 'default', gateway: '10.0.1.1', dev: 'eth0', metric: 0, protocol: '77' },
    { table: 'main', dst: 'default', gateway: '10.0.2.1', dev: 'wwan0', metric: 0, protocol: '77' },
  );
  ip.rules.push({ priority: 7100, src: '10.0.1.2', table: '7100' });
  const dry = sink();
  const err = sink();
  assert.equal(await cleanupCommand({ config: cfg, dryRun: true }, dry.s, err.s, createIpActuator({ runner: ip, log: silentLogger(), dryRun: true })), 0);
  assert.equal(
    dry.text(),
    'ip route del default via 10.0.2.1 dev wwan0 metric 0 proto 77\nip rule del priority 7100 from 10.0.1.2 lookup 7100\nip route del default via 10.0.1.1 dev eth0 table 7100\n',
  );
  assert.deepEqual(ip.log, []);
  const out = sink();
  assert.equal(await cleanupCommand({ config: cfg }, out.s, err.s, createIpActuator({ runner: ip, log: silentLogger() })), 0);
  assert.equal(ip.log.length, 3);
  assert.equal(
    ip.render(),
    'ip route default via 10.0.1.1 dev eth0 metric 100 proto dhcp\nip link eth0 up\nip link wwan0 up',
    'back to the host default (off the backup)',
  );
  const again = sink();
  assert.equal(await cleanupCommand({ config: cfg }, again.s, err.s, createIpActuator({ runner: ip, log: silentLogger() })), 0);
  assert.equal(again.text(), 'nothing to clean up\n');
});

test('route cleanup puts back a remembered host default linkward overwrote, and never deletes the last default', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lwr-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cfg = join(dir, 'config.yaml');
  writeFileSync(
    cfg,
    `state: { dir: ${dir} }\nuplinks:\n  - { name: wan, interface: eth0, gateway: 10.0.1.1 }\n  - { name: lte, interface: wwan0, gateway: 10.0.2.1 }\n`,
  );
  // A static metric-0 default via eth0 was there; linkward's `replace` (metric 0) overwrote it when it moved to lte.
  const db = new Database(join(dir, 'state.db'));
  createRouteStore(db).saveOriginalDefaults({
    families: [4],
    routes: [{ table: 'main', dst: 'default', gateway: '10.0.1.1', dev: 'eth0', metric: 0, protocol: 'static', type: 'unicast' }],
  });
  const ip = new FakeIp().addLink('eth0', '10.0.1.2/24').addLink('wwan0', '10.0.2.2/24');
  ip.routes.push({ table: 'main', dst: 'default', gateway: '10.0.2.1', dev: 'wwan0', metric: 0, protocol: '77' });
  const out = sink();
  const err = sink();
  assert.equal(await cleanupCommand({ config: cfg }, out.s, err.s, createIpActuator({ runner: ip, log: silentLogger() })), 0, err.text());
  assert.equal(out.text(), 'ip route replace default via 10.0.1.1 dev eth0 proto static\n');
  assert.equal(ip.render(), 'ip route default via 10.0.1.1 dev eth0 proto static\nip link eth0 up\nip link wwan0 up');
  // Nothing remembered and no host default: linkward's default is the last one and stays.
  rmSync(join(dir, 'state.db'));
  ip.routes = ip.routes.filter((r) => r.dst !== 'default');
  ip.routes.push({ table: 'main', dst: 'default', gateway: '10.0.2.1', dev: 'wwan0', metric: 0, protocol: '77' });
  const last = sink();
  assert.equal(await cleanupCommand({ config: cfg }, last.s, err.s, createIpActuator({ runner: ip, log: silentLogger() })), 0);
  assert.equal(last.text(), 'nothing to clean up\n');
  assert.ok(ip.routes.some((r) => r.dst === 'default'));
});

test('route cleanup on an unknown kernel read changes nothing and fails', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lwr-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cfg = join(dir, 'config.yaml');
  writeFileSync(
    cfg,
    `state: { dir: ${dir} }\nuplinks:\n  - { name: wan, interface: eth0, gateway: 10.0.1.1 }\n  - { name: lte, interface: wwan0, gateway: 10.0.2.1 }\n`,
  );
  const ip = twoUplinkKernel();
  ip.rules.push({ priority: 7100, src: '10.0.1.2', table: '7100' });
  ip.readFaults.push({ prefix: 'ip -4 -json rule', fault: 'empty', times: 100 });
  const out = sink();
  const err = sink();
  assert.equal(await cleanupCommand({ config: cfg }, out.s, err.s, createIpActuator({ runner: ip, log: silentLogger(), sleep: async () => undefined })), 1);
  assert.match(err.text(), /kernel routing state unknown/);
  assert.deepEqual(ip.log, []);
});

test('route show renders active, health, problems and history', () => {
  const text = renderRouteShow({
    active: 'lte',
    mode: 'failover',
    override: null,
    routesManaged: true,
    k3s: { message: 'k3s not found: route switching allowed' },
    lastDecision: 'wan is down',
    uplinks: [
      { name: 'wan', priority: 10, interface: 'eth0', health: 'down' },
      { name: 'lte', priority: 20, interface: 'wwan0', health: 'healthy' },
    ],
    managed: [],
    problems: [],
    lastError: null,
    history: [{ atMs: 0, from: 'wan', to: 'lte', reason: 'failover', result: 'confirmed', detail: 'reached 1.2.3.4:443' }],
  });
  assert.match(text, /^active: lte   mode: failover/);
  assert.match(text, /\* lte +prio +20 +wwan0 +healthy/);
  assert.match(text, /1970-01-01T00:00:00.000Z wan → lte \(failover\) confirmed: reached 1\.2\.3\.4:443/);
});

/** A fake daemon for `route use`: the POST's fate and the request's states seen by successive polls. */
function fakeUseApi(o: {
  post?: () => Promise<DaemonResponse<Record<string, unknown> | null>>;
  states?: (string | Error)[];
  detail?: string;
  decideWithinMs?: number;
}): RouteUseApi & { polls: number; body: Record<string, unknown> | null } {
  let mono = 0;
  const api = {
    polls: 0,
    body: null as Record<string, unknown> | null,
    async post(body: Record<string, unknown>) {
      api.body = body;
      if (o.post) return o.post();
      return { status: 202, body: { accepted: true, requestId: body.requestId, decideWithinMs: o.decideWithinMs ?? 30_000 } };
    },
    async get() {
      const s = o.states?.[Math.min(api.polls++, (o.states?.length ?? 1) - 1)];
      if (s instanceof Error) throw s;
      const requests =
        s === undefined || s === 'unknown' ? [] : [{ id: api.body?.requestId, uplink: 'lte', state: s, detail: o.detail ?? 'reached 10.99.0.1:443' }];
      return { status: 200, body: { requests } };
    },
    sleep: async (ms: number) => void (mono += ms),
    monoMs: () => mono,
  };
  return api;
}

const lwError = (code: string, causeCode?: string): Error =>
  Object.assign(new Error(code), { code, cause: causeCode ? Object.assign(new Error(causeCode), { code: causeCode }) : undefined });

test('route use waits for the decision: confirmed 0, rolled back 1 (with why), refused 2', async () => {
  for (const [state, code, stream, text] of [
    ['confirmed', RouteUseExit.CONFIRMED, 'out', /^lte: confirmed \(reached 10\.99\.0\.1:443\)\n$/],
    ['already', RouteUseExit.CONFIRMED, 'out', /^lte: already active\n$/],
    ['rolled-back', RouteUseExit.ROLLED_BACK, 'err', /^lte: rolled back: reached 10\.99/],
    ['refused', RouteUseExit.REFUSED, 'err', /^lte: refused: /],
  ] as const) {
    const api = fakeUseApi({ states: ['unknown', 'pending', 'pending', state] });
    const out = sink();
    const err = sink();
    assert.equal(await useCommand('lte', {}, api, out.s, err.s), code, state);
    assert.match((stream === 'out' ? out : err).text(), text);
    assert.equal(api.polls, 4, 'polled until decided');
    assert.match(String(api.body?.requestId), /^[0-9a-f-]{36}$/);
  }
});

test('route use: an unknown uplink is refused (2); --json prints the decision', async () => {
  const err = sink();
  assert.equal(
    await useCommand(
      'nope',
      {},
      fakeUseApi({
        post: async () => ({ status: 404, body: { error: { code: 'LW_ROUTE_UNKNOWN_UPLINK', message: 'unknown uplink "nope"; configured: wan, lte' } } }),
      }),
      sink().s,
      err.s,
    ),
    RouteUseExit.REFUSED,
  );
  assert.match(err.text(), /refused: unknown uplink "nope"/);
  const out = sink();
  assert.equal(await useCommand('lte', { json: true }, fakeUseApi({ states: ['confirmed'] }), out.s, sink().s), 0);
  assert.equal(JSON.parse(out.text()).state, 'confirmed');
});

test('route use under load: the POST answer is lost but the switch happened → it finds the outcome by request id (not "unreachable")', async () => {
  const api = fakeUseApi({
    post: async () => {
      throw lwError('LW_DAEMON_UNREACHABLE', 'ABORT_ERR');
    },
    states: [new Error('no answer within 5000 ms'), 'pending', 'confirmed'],
  });
  const out = sink();
  const err = sink();
  assert.equal(await useCommand('lte', {}, api, out.s, err.s), RouteUseExit.CONFIRMED);
  assert.match(err.text(), /checking whether the daemon got it/);
  assert.match(out.text(), /lte: confirmed/);
});

test('route use: connection refused is unreachable (3, nothing changed); accepted without a decision in time is 4', async () => {
  const err = sink();
  assert.equal(
    await useCommand(
      'lte',
      {},
      fakeUseApi({
        post: async () => {
          throw lwError('LW_DAEMON_UNREACHABLE', 'ECONNREFUSED');
        },
      }),
      sink().s,
      err.s,
    ),
    RouteUseExit.UNREACHABLE,
  );
  assert.match(err.text(), /nothing was changed/);
  const err2 = sink();
  const api = fakeUseApi({ states: ['pending'], decideWithinMs: 10_000 });
  assert.equal(await useCommand('lte', {}, api, sink().s, err2.s), RouteUseExit.UNDECIDED);
  assert.equal(api.polls, 20, 'polled every 500 ms for the 10 s the daemon asked for');
  assert.match(err2.text(), /no decision within 10 s .*route show/);
  const err3 = sink();
  assert.equal(
    await useCommand(
      'lte',
      { waitMs: 2_000 },
      fakeUseApi({
        post: async () => {
          throw lwError('LW_DAEMON_UNREACHABLE', 'ABORT_ERR');
        },
        states: ['unknown'],
      }),
      sink().s,
      err3.s,
    ),
    RouteUseExit.UNDECIDED,
  );
  assert.match(err3.text(), /may or may not have been received/);
});
