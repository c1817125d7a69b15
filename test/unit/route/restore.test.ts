/** Restore on stop: the host's default routes found before linkward come back, linkward's go, never the last default. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UplinkSchema } from '../../../agent/config/uplinks.ts';
import { silentLogger } from '../../../agent/base/log.ts';
import { createIpActuator } from '../../../agent/route/actuator.ts';
import type { KernelRoute, KernelState } from '../../../agent/route/ip-state.ts';
import { renderCommands } from '../../../agent/route/plan.ts';
import { reconcile, type RouteTarget } from '../../../agent/route/reconcile.ts';
import {
  NO_ORIGINALS,
  captureOriginalDefaults,
  mergeOriginals,
  restoreCommands,
  restoreDefaults,
  type OriginalDefaults,
  type OriginalsStore,
} from '../../../agent/route/restore.ts';
import { FakeIp } from '../../support/route-fake-ip.ts';

const OPTS = { perUplinkTables: true, tableBase: 7100, routeProto: 77, mainMetric: 0 };
const WAN = UplinkSchema.parse({ name: 'wan', interface: 'eth0', gateway: '10.0.1.1', gateway6: 'fd00:1::1', priority: 10 });
const LTE = UplinkSchema.parse({ name: 'lte', interface: 'wwan0', gateway: '10.0.2.1', gateway6: 'fd00:2::1', priority: 20 });
const target = (active: string): RouteTarget => ({ uplinks: [WAN, LTE], active, linkUp: {}, opts: OPTS });

const link = (name: string, up = true) => ({ name, up, lowerUp: up, addrs: [] });
const o4 = (...routes: KernelRoute[]): OriginalDefaults => ({ families: [4], routes });
const def = (gateway: string, dev: string, metric: number, protocol: string, family: 4 | 6 = 4): KernelRoute => ({
  ...(family === 6 ? { family } : {}),
  table: 'main',
  dst: 'default',
  gateway,
  dev,
  metric,
  protocol,
  type: 'unicast',
});
const state = (routes: KernelRoute[], links = [link('eth0'), link('wwan0')], families: (4 | 6)[] = [4]): KernelState => ({
  routes,
  rules: [],
  links,
  families,
});

test("on the backup with the host DHCP default still there: only linkward's default goes", () => {
  const k = state([def('10.0.2.1', 'wwan0', 0, '77'), def('10.0.1.1', 'eth0', 100, 'dhcp')]);
  assert.equal(
    renderCommands(restoreCommands(k, o4(def('10.0.1.1', 'eth0', 100, 'dhcp')), OPTS)),
    'ip route del default via 10.0.2.1 dev wwan0 metric 0 proto 77',
  );
});

test('a host default linkward overwrote (same metric) is put back by one replace, no delete', () => {
  const k = state([def('10.0.2.1', 'wwan0', 0, '77')]);
  assert.equal(
    renderCommands(restoreCommands(k, o4(def('10.0.1.1', 'eth0', 0, 'static')), OPTS)),
    'ip route replace default via 10.0.1.1 dev eth0 proto static',
  );
});

test("nothing remembered and no host default: linkward's default is the last one and stays", () => {
  assert.deepEqual(restoreCommands(state([def('10.0.2.1', 'wwan0', 0, '77')]), NO_ORIGINALS, OPTS), []);
});

test("a remembered default whose interface is down is not restored; linkward's stays rather than leaving none", () => {
  const k = state([def('10.0.2.1', 'wwan0', 0, '77')], [link('eth0', false), link('wwan0')]);
  assert.deepEqual(restoreCommands(k, o4(def('10.0.1.1', 'eth0', 100, 'dhcp')), OPTS), []);
});

test('a lost DHCP default is restored only when the host would otherwise have no default', () => {
  const k = state([def('10.0.2.1', 'wwan0', 0, '77')]);
  assert.equal(
    renderCommands(restoreCommands(k, o4(def('10.0.1.1', 'eth0', 100, 'dhcp')), OPTS)),
    'ip route replace default via 10.0.1.1 dev eth0 metric 100 proto dhcp\nip route del default via 10.0.2.1 dev wwan0 metric 0 proto 77',
  );
  const withOther = state([def('10.0.2.1', 'wwan0', 0, '77'), def('10.0.2.1', 'wwan0', 600, 'dhcp')]);
  assert.equal(
    renderCommands(restoreCommands(withOther, o4(def('10.0.1.1', 'eth0', 100, 'dhcp'), def('10.0.2.1', 'wwan0', 600, 'dhcp')), OPTS)),
    'ip route del default via 10.0.2.1 dev wwan0 metric 0 proto 77',
  );
});

test('IPv6 is restored the same way, with -6', () => {
  const k = state(
    [def('10.0.2.1', 'wwan0', 0, '77'), def('10.0.1.1', 'eth0', 100, 'dhcp'), def('fd00:2::1', 'wwan0', 1, '77', 6), def('fe80::1', 'eth0', 1024, 'ra', 6)],
    undefined,
    [4, 6],
  );
  assert.equal(
    renderCommands(restoreCommands(k, NO_ORIGINALS, OPTS)),
    'ip route del default via 10.0.2.1 dev wwan0 metric 0 proto 77\nip -6 route del default via fd00:2::1 dev wwan0 metric 1 proto 77',
  );
});

test("a family the host had no default in gets none back; unremembered, linkward's last default of it stays", () => {
  const k = state([def('10.0.1.1', 'eth0', 100, 'dhcp'), def('fd00:2::1', 'wwan0', 1, '77', 6)], undefined, [4, 6]);
  assert.equal(
    renderCommands(restoreCommands(k, { families: [4, 6], routes: [def('10.0.1.1', 'eth0', 100, 'dhcp')] }, OPTS)),
    'ip -6 route del default via fd00:2::1 dev wwan0 metric 1 proto 77',
  );
  assert.deepEqual(restoreCommands(k, NO_ORIGINALS, OPTS), []);
});

test("what is remembered: the host defaults now, plus remembered ones at linkward's metric it overwrote; all of them while the host has none", () => {
  const saved = o4(def('10.0.1.1', 'eth0', 0, 'static'), def('10.0.1.1', 'eth0', 100, 'dhcp'));
  const now = state([def('10.0.2.1', 'wwan0', 0, '77'), def('10.0.2.1', 'wwan0', 600, 'dhcp')]);
  assert.deepEqual(mergeOriginals(saved, now, OPTS), o4(def('10.0.2.1', 'wwan0', 600, 'dhcp'), def('10.0.1.1', 'eth0', 0, 'static')));
  assert.deepEqual(mergeOriginals(saved, state([def('10.0.2.1', 'wwan0', 0, '77')]), OPTS), saved);
  const v6 = def('fe80::1', 'eth0', 1024, 'ra', 6);
  assert.deepEqual(
    mergeOriginals({ families: [4, 6], routes: [...saved.routes, v6] }, now, OPTS),
    { families: [4, 6], routes: [def('10.0.2.1', 'wwan0', 600, 'dhcp'), def('10.0.1.1', 'eth0', 0, 'static'), v6] },
    'a family not read keeps what was remembered',
  );
  assert.deepEqual(mergeOriginals(NO_ORIGINALS, state([], undefined, [4, 6]), OPTS), { families: [4, 6], routes: [] }, 'read and empty: the host had none');
});

function memoryStore(): OriginalsStore & { saved: OriginalDefaults } {
  const s = { saved: NO_ORIGINALS, loadOriginalDefaults: () => s.saved, saveOriginalDefaults: (o: OriginalDefaults) => void (s.saved = o) };
  return s;
}

const HOSTS: [string, (ip: FakeIp) => void][] = [
  [
    'DHCP defaults on both uplinks',
    (ip) =>
      ip.routes.push(
        { table: 'main', dst: 'default', gateway: '10.0.1.1', dev: 'eth0', metric: 100, protocol: 'dhcp' },
        { table: 'main', dst: 'default', gateway: '10.0.2.1', dev: 'wwan0', metric: 600, protocol: 'dhcp' },
      ),
  ],
  [
    'a static metric-0 default via eth0',
    (ip) => ip.routes.push({ table: 'main', dst: 'default', gateway: '10.0.1.1', dev: 'eth0', metric: 0, protocol: 'static' }),
  ],
  [
    'dual-stack: DHCP and an RA default',
    (ip) =>
      ip.routes.push(
        { table: 'main', dst: 'default', gateway: '10.0.1.1', dev: 'eth0', metric: 100, protocol: 'dhcp' },
        { family: 6, table: 'main', dst: 'default', gateway: 'fe80::1', dev: 'eth0', metric: 1024, protocol: 'ra' },
      ),
  ],
];

for (const [name, seed] of HOSTS) {
  test(`start, switch to the backup, crash and restart, stop: the main table is as before linkward (${name})`, async () => {
    const ip = new FakeIp().addLink('eth0', '10.0.1.2/24', true, 'fd00:1::2/64').addLink('wwan0', '10.0.2.2/24', true, 'fd00:2::2/64');
    seed(ip);
    const before = ip.render();
    const act = createIpActuator({ runner: ip, log: silentLogger(), families: [4, 6] });
    const store = memoryStore();
    await captureOriginalDefaults(act, store, OPTS, silentLogger());
    await reconcile(act, target('wan'));
    await reconcile(act, target('lte'));
    // A restart (after a crash) remembers again: what linkward overwrote is not forgotten.
    await captureOriginalDefaults(act, store, OPTS, silentLogger());
    await reconcile(act, target('lte'));
    assert.match(ip.render(), /ip route default via 10\.0\.2\.1 dev wwan0 proto 77/);
    const r = await restoreDefaults(act, store, OPTS, silentLogger());
    assert.deepEqual(r?.errors, []);
    const main = (t: string): string =>
      t
        .split('\n')
        .filter((l) => / route default /.test(l) && !/ table /.test(l))
        .join('\n');
    assert.equal(main(ip.render()), main(before), 'main defaults as before linkward');
    assert.ok(
      ip.routes.some((x) => x.dst === 'default' && x.table === 'main'),
      'a default route at every step',
    );
  });
}

test('restore on an unknown read changes nothing', async () => {
  const ip = new FakeIp().addLink('eth0', '10.0.1.2/24').addLink('wwan0', '10.0.2.2/24');
  ip.routes.push(
    { table: 'main', dst: 'default', gateway: '10.0.2.1', dev: 'wwan0', metric: 0, protocol: '77' },
    { table: 'main', dst: 'default', gateway: '10.0.1.1', dev: 'eth0', metric: 100, protocol: 'dhcp' },
  );
  ip.readFaults.push({ prefix: 'ip -4 -json route', fault: 'empty', times: 100 });
  const act = createIpActuator({ runner: ip, log: silentLogger(), sleep: async () => undefined });
  assert.equal(await restoreDefaults(act, memoryStore(), OPTS, silentLogger()), null);
  assert.deepEqual(ip.log, []);
});
