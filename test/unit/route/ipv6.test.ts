/** Dual-stack planning: golden `ip` text for both families, every state reached from every other, IPv6-only unknowns. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UplinkSchema } from '../../../agent/config/uplinks.ts';
import { silentLogger } from '../../../agent/base/log.ts';
import { createIpActuator } from '../../../agent/route/actuator.ts';
import { familiesFor } from '../../../agent/route/plan.ts';
import { reconcile, type RouteTarget } from '../../../agent/route/reconcile.ts';
import type { FakeIp } from '../../support/route-fake-ip.ts';
import { dualStackKernel } from '../../support/route-context.ts';

const OPTS = { perUplinkTables: true, tableBase: 7100, routeProto: 77, mainMetric: 0 };
const WAN = UplinkSchema.parse({ name: 'wan', interface: 'eth0', gateway: '10.0.1.1', gateway6: 'fe80::1', priority: 10 });
const LTE = UplinkSchema.parse({ name: 'lte', interface: 'wwan0', gateway: '10.0.2.1', gateway6: 'fd00:2::1', priority: 20 });
const LTE4 = UplinkSchema.parse({ name: 'lte', interface: 'wwan0', gateway: '10.0.2.1', priority: 20 });

const kernel = dualStackKernel;
const actuator = (ip: FakeIp) => createIpActuator({ runner: ip, log: silentLogger(), families: [4, 6], sleep: async () => undefined });

const COMMON = `ip -6 route default via fe80::1 dev eth0 metric 1024 proto ra
ip route default via 10.0.1.1 dev eth0 metric 100 proto dhcp`;
interface State {
  name: string;
  target: RouteTarget;
  golden: string;
}
const STATES: State[] = [
  {
    name: 'wan active (dual-stack)',
    target: { uplinks: [WAN, LTE], active: 'wan', linkUp: {}, opts: OPTS },
    golden: `ip -6 route default via fd00:2::1 dev wwan0 table 7101 metric 1024 proto 77
ip -6 route default via fe80::1 dev eth0 metric 1 proto 77
${COMMON.split('\n')[0]}
ip -6 route default via fe80::1 dev eth0 table 7100 metric 1024 proto 77
${COMMON.split('\n')[1]}
ip route default via 10.0.1.1 dev eth0 proto 77
ip route default via 10.0.1.1 dev eth0 table 7100 proto 77
ip route default via 10.0.2.1 dev wwan0 table 7101 proto 77
ip -6 rule 7100: from fd00:1::2 lookup 7100
ip -6 rule 7101: from fd00:2::2 lookup 7101
ip rule 7100: from 10.0.1.2 lookup 7100
ip rule 7101: from 10.0.2.2 lookup 7101
ip link eth0 up
ip link wwan0 up`,
  },
  {
    name: 'lte active (dual-stack)',
    target: { uplinks: [WAN, LTE], active: 'lte', linkUp: {}, opts: OPTS },
    golden: `ip -6 route default via fd00:2::1 dev wwan0 metric 1 proto 77
ip -6 route default via fd00:2::1 dev wwan0 table 7101 metric 1024 proto 77
${COMMON.split('\n')[0]}
ip -6 route default via fe80::1 dev eth0 table 7100 metric 1024 proto 77
${COMMON.split('\n')[1]}
ip route default via 10.0.1.1 dev eth0 table 7100 proto 77
ip route default via 10.0.2.1 dev wwan0 proto 77
ip route default via 10.0.2.1 dev wwan0 table 7101 proto 77
ip -6 rule 7100: from fd00:1::2 lookup 7100
ip -6 rule 7101: from fd00:2::2 lookup 7101
ip rule 7100: from 10.0.1.2 lookup 7100
ip rule 7101: from 10.0.2.2 lookup 7101
ip link eth0 up
ip link wwan0 up`,
  },
  {
    name: "lte active, lte IPv4-only: linkward's IPv6 default goes (the RA default remains), wan keeps its IPv6 table",
    target: { uplinks: [WAN, LTE4], active: 'lte', linkUp: {}, opts: OPTS },
    golden: `${COMMON.split('\n')[0]}
ip -6 route default via fe80::1 dev eth0 table 7100 metric 1024 proto 77
${COMMON.split('\n')[1]}
ip route default via 10.0.1.1 dev eth0 table 7100 proto 77
ip route default via 10.0.2.1 dev wwan0 proto 77
ip route default via 10.0.2.1 dev wwan0 table 7101 proto 77
ip -6 rule 7100: from fd00:1::2 lookup 7100
ip rule 7100: from 10.0.1.2 lookup 7100
ip rule 7101: from 10.0.2.2 lookup 7101
ip link eth0 up
ip link wwan0 up`,
  },
];

test('golden commands: a dual-stack switch is one atomic replace per family', async () => {
  const ip = kernel();
  await reconcile(actuator(ip), STATES[0]!.target);
  assert.equal(ip.render(), STATES[0]!.golden);
  ip.log = [];
  await reconcile(actuator(ip), STATES[1]!.target);
  assert.equal(
    ip.log.join('\n'),
    'ip route replace default via 10.0.2.1 dev wwan0 metric 0 proto 77\nip -6 route replace default via fd00:2::1 dev wwan0 metric 1 proto 77',
  );
  ip.log = [];
  await reconcile(actuator(ip), STATES[1]!.target);
  assert.deepEqual(ip.log, [], 'second pass is a no-op');
});

test('every dual-stack state renders its golden text, reached from every other in random order; a default in both families at every step', async () => {
  const ip = kernel();
  let seed = 7;
  const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const order: State[] = [...STATES];
  for (let i = 0; i < 60; i++) order.push(STATES[Math.floor(rand() * STATES.length)]!);
  let prev = 'fresh';
  for (const s of order) {
    const r = await reconcile(actuator(ip), s.target);
    assert.deepEqual(r.result.errors, [], `${prev} → ${s.name}`);
    assert.equal(ip.render(), s.golden, `${prev} → ${s.name}`);
    for (const f of [4, 6])
      assert.ok(
        ip.routes.some((x) => (x.family ?? 4) === f && x.table === 'main' && x.dst === 'default'),
        `IPv${f} default after ${prev} → ${s.name}`,
      );
    prev = s.name;
  }
});

test('an unknown IPv6 read changes nothing in either family', async () => {
  const ip = kernel();
  await reconcile(actuator(ip), STATES[0]!.target);
  ip.log = [];
  for (const prefix of ['ip -6 -json route', 'ip -6 -json rule']) {
    ip.readFaults = [{ prefix, fault: 'empty', times: 100 }];
    await assert.rejects(reconcile(actuator(ip), STATES[1]!.target), { code: 'LW_ROUTE_STATE_UNKNOWN' });
  }
  assert.deepEqual(ip.log, []);
  assert.equal(ip.render(), STATES[0]!.golden);
});

test('a dual-stack uplink without its IPv6 address keeps its IPv6 table and rule; IPv4 goes on', async () => {
  const ip = kernel();
  await reconcile(actuator(ip), STATES[0]!.target);
  ip.log = [];
  delete ip.links.find((l) => l.name === 'wwan0')!.addr6;
  const r = await reconcile(actuator(ip), STATES[0]!.target);
  assert.match(r.problems.join('\n'), /lte: wwan0 has no global IPv6 address/);
  assert.deepEqual(ip.log, []);
  assert.equal(ip.render(), STATES[0]!.golden);
});

test('IPv6 is read only when an uplink is dual-stack', () => {
  assert.deepEqual(familiesFor([WAN, LTE4]), [4, 6]);
  assert.deepEqual(familiesFor([LTE4]), [4]);
});

const WAN_AUTO = UplinkSchema.parse({ name: 'wan', interface: 'eth0', gateway: '10.0.1.1', gateway6: 'auto', priority: 10 });
const LTE_AUTO = UplinkSchema.parse({ name: 'lte', interface: 'wwan0', gateway: '10.0.2.1', gateway6: 'auto', priority: 20 });
/** Both uplinks announce their router by RA (link-local next hops, metric 1024), as cellular modems and most CPEs do. */
function raKernel(): FakeIp {
  const ip = kernel();
  ip.routes.push({ family: 6, table: 'main', dst: 'default', gateway: 'fe80::2', dev: 'wwan0', metric: 1024, protocol: 'ra' });
  return ip;
}
const v6Lines = (ip: FakeIp): string =>
  ip
    .render()
    .split('\n')
    .filter((l) => l.startsWith('ip -6 route') && l.includes('proto 77'))
    .join('\n');

test('gateway6 auto: each router is learned from its RA default; a failover moves IPv6 too; a router that changed address is followed', async () => {
  const ip = raKernel();
  const wan = { uplinks: [WAN_AUTO, LTE_AUTO], active: 'wan', linkUp: {}, opts: OPTS };
  const r = await reconcile(actuator(ip), wan);
  assert.deepEqual(r.problems, []);
  assert.equal(
    v6Lines(ip),
    `ip -6 route default via fe80::1 dev eth0 metric 1 proto 77
ip -6 route default via fe80::1 dev eth0 table 7100 metric 1024 proto 77
ip -6 route default via fe80::2 dev wwan0 table 7101 metric 1024 proto 77`,
  );
  ip.log = [];
  await reconcile(actuator(ip), { ...wan, active: 'lte' });
  assert.equal(
    ip.log.join('\n'),
    'ip route replace default via 10.0.2.1 dev wwan0 metric 0 proto 77\nip -6 route replace default via fe80::2 dev wwan0 metric 1 proto 77',
  );
  // wan's router is replaced (a new link-local address in its RA): the host's route changes, linkward's copy is old.
  ip.routes.find((x) => x.family === 6 && x.dev === 'eth0' && x.protocol === 'ra')!.gateway = 'fe80::9';
  ip.log = [];
  await reconcile(actuator(ip), { ...wan, active: 'lte' });
  assert.match(ip.log.join('\n'), /^ip -6 route replace default via fe80::9 dev eth0 table 7100 proto 77$/m);
  assert.doesNotMatch(ip.render(), /fe80::1 dev eth0 table 7100/);
});

test('gateway6 auto without an IPv6 default via the interface: that IPv6 side is left as it is and named; IPv4 and the other uplink go on', async () => {
  const ip = kernel(); // no RA default on wwan0
  const r = await reconcile(actuator(ip), { uplinks: [WAN_AUTO, LTE_AUTO], active: 'lte', linkUp: {}, opts: OPTS });
  assert.match(r.problems.join('\n'), /lte: gateway6 is auto but the host has no IPv6 default route via wwan0/);
  assert.match(ip.render(), /^ip route default via 10\.0\.2\.1 dev wwan0 proto 77$/m);
  assert.match(ip.render(), /^ip -6 route default via fe80::1 dev eth0 table 7100 metric 1024 proto 77$/m);
  assert.doesNotMatch(ip.render(), /ip -6 route default via \S+ dev wwan0/);
});

test('gateway6 accepts an IPv6 address or auto, nothing else', () => {
  assert.equal(UplinkSchema.safeParse({ name: 'wan', gateway6: 'auto' }).success, true);
  assert.equal(UplinkSchema.safeParse({ name: 'wan', gateway6: 'fe80::1' }).success, true);
  const bad = UplinkSchema.safeParse({ name: 'wan', gateway6: 'automatic' });
  assert.equal(bad.success, false);
  assert.match(bad.error?.issues[0]?.message ?? '', /or auto/);
  assert.deepEqual(familiesFor([WAN_AUTO]), [4, 6]);
});

test("gateway6 auto: the active uplink's router withdraws its default (RA lifetime 0): linkward stops routing IPv6 through it, the other uplink's RA default carries IPv6", async () => {
  const ip = raKernel();
  const wan = { uplinks: [WAN_AUTO, LTE_AUTO], active: 'wan', linkUp: {}, opts: OPTS };
  await reconcile(actuator(ip), wan);
  assert.match(ip.render(), /^ip -6 route default via fe80::1 dev eth0 metric 1 proto 77$/m);
  ip.routes = ip.routes.filter((x) => !(x.family === 6 && x.dev === 'eth0' && x.protocol === 'ra'));
  const r = await reconcile(actuator(ip), wan);
  assert.match(r.problems.join('\n'), /wan: gateway6 is auto but the host has no IPv6 default route via eth0/);
  assert.doesNotMatch(ip.render(), /^ip -6 route default via \S+ dev eth0 metric 1 proto 77$/m, "linkward's copy is not kept as the main default");
  assert.match(ip.render(), /^ip -6 route default via fe80::2 dev wwan0 metric 1024 proto ra$/m);
  assert.match(ip.render(), /^ip route default via 10\.0\.1\.1 dev eth0 proto 77$/m, 'IPv4 stays on wan');
});
