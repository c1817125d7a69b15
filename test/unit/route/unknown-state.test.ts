/** Unknown is not empty: a failed, timed-out, empty, garbled or partial kernel read changes nothing; an unresolved uplink keeps its entries. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { UplinkSchema } from '../../../agent/config/uplinks.ts';
import { isLwError } from '../../../agent/base/errors.ts';
import { silentLogger } from '../../../agent/base/log.ts';
import { READ_ATTEMPTS, createIpActuator } from '../../../agent/route/actuator.ts';
import { reconcile, type RouteTarget } from '../../../agent/route/reconcile.ts';
import { FakeIp, type ReadFault } from '../../support/route-fake-ip.ts';

const OPTS = { perUplinkTables: true, tableBase: 7100, routeProto: 77, mainMetric: 0 };
const WAN = UplinkSchema.parse({ name: 'wan', interface: 'eth0', gateway: '10.0.1.1', priority: 10 });
const LTE = UplinkSchema.parse({ name: 'lte', interface: 'wwan0', gateway: '10.0.2.1', priority: 20 });
const TARGET: RouteTarget = { uplinks: [WAN, LTE], active: 'lte', linkUp: {}, opts: OPTS };

const GOLDEN = `ip route default via 10.0.1.1 dev eth0 metric 100 proto dhcp
ip route default via 10.0.1.1 dev eth0 table 7100 proto 77
ip route default via 10.0.2.1 dev wwan0 proto 77
ip route default via 10.0.2.1 dev wwan0 table 7101 proto 77
ip rule 7100: from 10.0.1.2 lookup 7100
ip rule 7101: from 10.0.2.2 lookup 7101
ip link eth0 up
ip link wwan0 up`;

/** A node linkward has fully reconciled (on lte), with the command log cleared. */
async function reconciled(): Promise<{ ip: FakeIp; registry: Registry; act: ReturnType<typeof createIpActuator> }> {
  const ip = new FakeIp().addLink('eth0', '10.0.1.2/24').addLink('wwan0', '10.0.2.2/24');
  ip.routes.push({ table: 'main', dst: 'default', gateway: '10.0.1.1', dev: 'eth0', metric: 100, protocol: 'dhcp' });
  const registry = new Registry();
  const act = createIpActuator({ runner: ip, log: silentLogger(), sleep: async () => undefined, registry });
  await reconcile(act, TARGET);
  assert.equal(ip.render(), GOLDEN);
  ip.log = [];
  ip.reads = 0;
  return { ip, registry, act };
}

async function unknownTotal(registry: Registry): Promise<Record<string, number>> {
  const m = await registry.getSingleMetric('linkward_route_state_unknown_total')!.get();
  return Object.fromEntries(m.values.map((v) => [`${v.labels.part}/${v.labels.reason}`, v.value]));
}

const FAULTS: [string, ReadFault, string, string][] = [
  ['ip -json addr', 'empty', 'addrs', 'empty'],
  ['ip -json addr', 'timeout', 'addrs', 'timeout'],
  ['ip -json addr', 'garbage', 'addrs', 'garbage'],
  ['ip -json addr', 'partial', 'addrs', 'garbage'],
  ['ip -json addr', 'fail', 'addrs', 'failed'],
  ['ip -json addr', 'no-loopback', 'addrs', 'incomplete'],
  ['ip -4 -json route', 'empty', 'routes', 'empty'],
  ['ip -4 -json route', 'partial', 'routes', 'garbage'],
  ['ip -4 -json route', 'interrupted', 'routes', 'incomplete'],
  ['ip -4 -json route', 'no-loopback', 'routes', 'incomplete'],
  ['ip -4 -json rule', 'empty', 'rules', 'empty'],
  ['ip -4 -json rule', 'garbage', 'rules', 'garbage'],
  ['ip -4 -json rule', 'timeout', 'rules', 'timeout'],
  ['ip -4 -json rule', 'no-loopback', 'rules', 'incomplete'],
];

for (const [prefix, fault, part, reason] of FAULTS) {
  test(`\`${prefix}\` ${fault}: state unknown, nothing changed or deleted, counted as ${part}/${reason}`, async () => {
    const { ip, registry, act } = await reconciled();
    ip.readFaults.push({ prefix, fault, times: 1_000 });
    await assert.rejects(reconcile(act, TARGET), (e) => isLwError(e, 'LW_ROUTE_STATE_UNKNOWN') && e.context?.part === part && e.context?.reason === reason);
    assert.deepEqual(ip.log, [], 'no ip command ran on unknown state');
    assert.equal(ip.render(), GOLDEN);
    assert.deepEqual(await unknownTotal(registry), { [`${part}/${reason}`]: 1 });
    // A timeout is not repeated at once (a stuck netlink would only cost another timeout); the rest are retried.
    const attempts = fault === 'timeout' ? 1 : READ_ATTEMPTS;
    assert.equal(ip.reads, attempts * 3, 'reads per attempt: routes, rules, addrs');
    // The read helper throws the same code (switches and the CLI use it).
    await assert.rejects(act.read(), { code: 'LW_ROUTE_STATE_UNKNOWN' });
  });
}

test('a transient bad read is retried at once and the reconcile goes on as if nothing happened', async () => {
  const { ip, registry, act } = await reconciled();
  ip.readFaults.push({ prefix: 'ip -json addr', fault: 'empty', times: READ_ATTEMPTS - 1 });
  const r = await reconcile(act, TARGET);
  assert.deepEqual(r.cmds, []);
  assert.deepEqual(ip.log, []);
  assert.equal(ip.render(), GOLDEN);
  assert.deepEqual(await unknownTotal(registry), {}, 'not counted: the last attempt was known');
});

test('after unknown reads, the next known read repairs drift as usual', async () => {
  const { ip, act } = await reconciled();
  ip.readFaults.push({ prefix: 'ip -json addr', fault: 'empty', times: READ_ATTEMPTS });
  ip.rules = ip.rules.filter((r) => r.priority !== 7101);
  await assert.rejects(reconcile(act, TARGET), { code: 'LW_ROUTE_STATE_UNKNOWN' });
  assert.deepEqual(ip.log, []);
  await reconcile(act, TARGET);
  assert.equal(ip.log.join('\n'), 'ip rule add from 10.0.2.2 lookup 7101 priority 7101');
  assert.equal(ip.render(), GOLDEN);
});

test('a missing address on one interface: that uplink is unresolved, its table and rule stay; the others are reconciled', async () => {
  const { ip, act } = await reconciled();
  ip.links.find((l) => l.name === 'eth0')!.addr = '';
  ip.rules = ip.rules.filter((r) => r.priority !== 7101); // drift on the resolvable uplink is still repaired
  const r = await reconcile(act, { ...TARGET, active: 'lte' });
  assert.match(r.problems.join('\n'), /wan: eth0 has no IPv4 address/);
  assert.equal(ip.log.join('\n'), 'ip rule add from 10.0.2.2 lookup 7101 priority 7101', 'nothing of wan deleted');
  assert.equal(ip.render(), GOLDEN);
});

test('a missing interface keeps its uplink entries too, and a removed uplink (known state) is cleaned', async () => {
  const { ip, act } = await reconciled();
  ip.links = ip.links.filter((l) => l.name !== 'wwan0');
  ip.routes = ip.routes.filter((r) => r.dev !== 'wwan0' || r.table === 'main');
  const r = await reconcile(act, { ...TARGET, active: 'wan' });
  assert.match(r.problems.join('\n'), /lte: wwan0 has no IPv4 address \(interface not found\)/);
  assert.ok(!ip.log.some((l) => / del .*7101/.test(l)), ip.log.join('\n'));
  assert.ok(
    ip.rules.some((x) => x.priority === 7101),
    'lte rule kept',
  );
  // Removing lte from the config (a known decision on a known state) does clean its rule.
  ip.log = [];
  await reconcile(act, { ...TARGET, uplinks: [WAN], active: 'wan' });
  assert.equal(ip.log.join('\n'), 'ip rule del priority 7101 from 10.0.2.2 lookup 7101');
});

test('parsers refuse what a complete read never prints', async () => {
  const { parseAddrs, parseRoutes, parseRules } = await import('../../../agent/route/ip-state.ts');
  for (const [fn, text] of [
    [parseRoutes, ''],
    [parseRoutes, '[{"dst":"default"'],
    [parseRoutes, '[{"gateway":"10.0.0.1"}]'],
    [parseRules, '{"priority":0}'],
    [parseRules, '[{"src":"all"}]'],
    [parseAddrs, '[{"ifname":"eth0"}]'],
    [parseAddrs, '[1,2]'],
    [parseAddrs, '  \n'],
  ] as const) {
    assert.throws(() => (fn as (t: string) => unknown)(text), { code: 'LW_ROUTE_IP_OUTPUT' }, JSON.stringify(text));
  }
  assert.deepEqual(parseRoutes('[]'), [], 'an empty list printed as [] is a real empty list');
});
