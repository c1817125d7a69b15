/** Route planning: golden `ip` command text per state, and every state reached cleanly from every other in random order. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UplinkSchema } from '../../../agent/config/uplinks.ts';
import { silentLogger } from '../../../agent/base/log.ts';
import { createIpActuator } from '../../../agent/route/actuator.ts';
import { parseAddrs, parseRoutes, parseRules } from '../../../agent/route/ip-state.ts';
import { cleanupCommands, planCommands, renderCommands } from '../../../agent/route/plan.ts';
import { reconcile, type RouteTarget } from '../../../agent/route/reconcile.ts';
import { FakeIp } from '../../support/route-fake-ip.ts';

const OPTS = { perUplinkTables: true, tableBase: 7100, routeProto: 77, mainMetric: 0 };
const WAN = UplinkSchema.parse({ name: 'wan', interface: 'eth0', gateway: '10.0.1.1', priority: 10 });
const LTE = UplinkSchema.parse({ name: 'lte', interface: 'wwan0', gateway: '10.0.2.1', priority: 20 });
const LTE_IDLE = UplinkSchema.parse({ name: 'lte', interface: 'wwan0', gateway: '10.0.2.1', priority: 20, idleDown: true });

function kernel(): FakeIp {
  const ip = new FakeIp().addLink('eth0', '10.0.1.2/24').addLink('wwan0', '10.0.2.2/24');
  ip.routes.push({ table: 'main', dst: 'default', gateway: '10.0.1.1', dev: 'eth0', metric: 100, protocol: 'dhcp' });
  return ip;
}

const actuator = (ip: FakeIp) => createIpActuator({ runner: ip, log: silentLogger() });

interface State {
  name: string;
  target: RouteTarget;
  golden: string;
}
const STATES: State[] = [
  {
    name: 'wan active',
    target: { uplinks: [WAN, LTE], active: 'wan', linkUp: {}, opts: OPTS, downByUs: ['wwan0'] },
    golden: `ip route default via 10.0.1.1 dev eth0 metric 100 proto dhcp
ip route default via 10.0.1.1 dev eth0 proto 77
ip route default via 10.0.1.1 dev eth0 table 7100 proto 77
ip route default via 10.0.2.1 dev wwan0 table 7101 proto 77
ip rule 7100: from 10.0.1.2 lookup 7100
ip rule 7101: from 10.0.2.2 lookup 7101
ip link eth0 up
ip link wwan0 up`,
  },
  {
    name: 'lte active',
    target: { uplinks: [WAN, LTE], active: 'lte', linkUp: {}, opts: OPTS, downByUs: ['wwan0'] },
    golden: `ip route default via 10.0.1.1 dev eth0 metric 100 proto dhcp
ip route default via 10.0.1.1 dev eth0 table 7100 proto 77
ip route default via 10.0.2.1 dev wwan0 proto 77
ip route default via 10.0.2.1 dev wwan0 table 7101 proto 77
ip rule 7100: from 10.0.1.2 lookup 7100
ip rule 7101: from 10.0.2.2 lookup 7101
ip link eth0 up
ip link wwan0 up`,
  },
  {
    name: 'wan active, no per-uplink tables',
    target: { uplinks: [WAN, LTE], active: 'wan', linkUp: {}, opts: { ...OPTS, perUplinkTables: false }, downByUs: ['wwan0'] },
    golden: `ip route default via 10.0.1.1 dev eth0 metric 100 proto dhcp
ip route default via 10.0.1.1 dev eth0 proto 77
ip link eth0 up
ip link wwan0 up`,
  },
  {
    name: 'wan active, lte idle down',
    target: { uplinks: [WAN, LTE_IDLE], active: 'wan', linkUp: { lte: false }, opts: OPTS, downByUs: ['wwan0'] },
    golden: `ip route default via 10.0.1.1 dev eth0 metric 100 proto dhcp
ip route default via 10.0.1.1 dev eth0 proto 77
ip route default via 10.0.1.1 dev eth0 table 7100 proto 77
ip rule 7100: from 10.0.1.2 lookup 7100
ip link eth0 up
ip link wwan0 down`,
  },
  {
    name: 'lte (idle-down) active',
    target: { uplinks: [WAN, LTE_IDLE], active: 'lte', linkUp: { lte: true }, opts: OPTS, downByUs: ['wwan0'] },
    golden: `ip route default via 10.0.1.1 dev eth0 metric 100 proto dhcp
ip route default via 10.0.1.1 dev eth0 table 7100 proto 77
ip route default via 10.0.2.1 dev wwan0 proto 77
ip route default via 10.0.2.1 dev wwan0 table 7101 proto 77
ip rule 7100: from 10.0.1.2 lookup 7100
ip rule 7101: from 10.0.2.2 lookup 7101
ip link eth0 up
ip link wwan0 up`,
  },
];

test('golden commands for a fresh node with wan active', async () => {
  const ip = kernel();
  await reconcile(actuator(ip), STATES[0]!.target);
  assert.equal(
    ip.log.join('\n'),
    `ip route replace default via 10.0.1.1 dev eth0 table 7100 proto 77
ip route replace default via 10.0.2.1 dev wwan0 table 7101 proto 77
ip rule add from 10.0.1.2 lookup 7100 priority 7100
ip rule add from 10.0.2.2 lookup 7101 priority 7101
ip route replace default via 10.0.1.1 dev eth0 metric 0 proto 77`,
  );
  ip.log = [];
  await reconcile(actuator(ip), STATES[0]!.target);
  assert.deepEqual(ip.log, [], 'second pass is a no-op');
});

test('a switch is exactly one atomic replace of the main default', async () => {
  const ip = kernel();
  await reconcile(actuator(ip), STATES[0]!.target);
  ip.log = [];
  await reconcile(actuator(ip), STATES[1]!.target);
  assert.equal(ip.log.join('\n'), 'ip route replace default via 10.0.2.1 dev wwan0 metric 0 proto 77');
});

test('every state renders its golden text, reached from every other state in random order', async () => {
  const ip = kernel();
  let seed = 42;
  const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const order: State[] = [...STATES];
  for (let i = 0; i < 60; i++) order.push(STATES[Math.floor(rand() * STATES.length)]!);
  let prev = 'fresh';
  for (const s of order) {
    const r = await reconcile(actuator(ip), s.target);
    assert.deepEqual(r.result.errors, [], `${prev} → ${s.name}`);
    assert.equal(ip.render(), s.golden, `${prev} → ${s.name}`);
    const before = ip.log.length;
    await reconcile(actuator(ip), s.target);
    assert.equal(ip.log.length, before, `${s.name} is stable`);
    // No moment without a default route: main always has one after every step.
    assert.ok(ip.routes.some((x) => x.table === 'main' && x.dst === 'default'));
    prev = s.name;
  }
});

test('drift is repaired: a deleted table route and rule come back', async () => {
  const ip = kernel();
  await reconcile(actuator(ip), STATES[1]!.target);
  ip.routes = ip.routes.filter((r) => r.table !== '7100');
  ip.rules = ip.rules.filter((r) => r.priority !== 7101);
  ip.log = [];
  await reconcile(actuator(ip), STATES[1]!.target);
  assert.equal(
    ip.log.join('\n'),
    `ip route replace default via 10.0.1.1 dev eth0 table 7100 proto 77
ip rule add from 10.0.2.2 lookup 7101 priority 7101`,
  );
  assert.equal(ip.render(), STATES[1]!.golden);
});

test('cleanup removes tables and rules but never the last default route', async () => {
  const ip = new FakeIp().addLink('eth0', '10.0.1.2/24').addLink('wwan0', '10.0.2.2/24');
  const act = actuator(ip);
  await reconcile(act, { uplinks: [WAN, LTE], active: 'lte', linkUp: {}, opts: OPTS, downByUs: ['wwan0'] });
  const cmds = cleanupCommands(await act.read(), OPTS);
  assert.equal(
    renderCommands(cmds),
    `ip rule del priority 7100 from 10.0.1.2 lookup 7100
ip rule del priority 7101 from 10.0.2.2 lookup 7101
ip route del default via 10.0.1.1 dev eth0 table 7100
ip route del default via 10.0.2.1 dev wwan0 table 7101`,
  );
  await act.apply(cmds);
  assert.equal(ip.render(), 'ip route default via 10.0.2.1 dev wwan0 proto 77\nip link eth0 up\nip link wwan0 up');
});

test('an old linkward default at another metric is removed only while another default remains', () => {
  const k = {
    routes: parseRoutes(JSON.stringify([{ dst: 'default', gateway: '10.0.1.1', dev: 'eth0', protocol: '77', metric: 5 }])),
    rules: [],
    links: parseAddrs(JSON.stringify([{ ifname: 'eth0', flags: ['UP'], addr_info: [{ family: 'inet', local: '10.0.1.2', prefixlen: 24 }] }])),
  };
  // Desired main default at metric 0 is added first, so the metric-5 one may go.
  const withActive = planCommands({ active: { name: 'wan', dev: 'eth0', gateway: '10.0.1.1', src: '10.0.1.2', table: 7100 }, tables: [], links: {} }, k, {
    ...OPTS,
    perUplinkTables: false,
  });
  assert.equal(
    renderCommands(withActive),
    'ip route replace default via 10.0.1.1 dev eth0 metric 0 proto 77\nip route del default via 10.0.1.1 dev eth0 metric 5',
  );
  const noActive = planCommands({ active: null, tables: [], links: {} }, k, { ...OPTS, perUplinkTables: false });
  assert.deepEqual(noActive, [], 'the only default route is never deleted');
});

test('idempotent apply: EEXIST on add and ESRCH/ENOENT on delete count as success; other errors are reported', async () => {
  const ip = kernel();
  ip.failures.set('ip rule add', 'RTNETLINK answers: File exists');
  ip.failures.set('ip route replace default via 10.0.2.1 dev wwan0 table', 'RTNETLINK answers: Network is unreachable');
  const r = await actuator(ip).apply([
    ['rule', 'add', 'from', '10.0.1.2', 'lookup', '7100', 'priority', '7100'],
    ['route', 'replace', 'default', 'via', '10.0.2.1', 'dev', 'wwan0', 'table', '7101'],
    ['route', 'del', 'default', 'table', '7999'],
  ]);
  assert.equal(r.applied.length, 2);
  assert.equal(r.errors.length, 1);
  assert.match(r.errors[0]!.message, /Network is unreachable/);
});

test('dry-run prints the exact commands and changes nothing', async () => {
  const ip = kernel();
  const printed: string[] = [];
  const act = createIpActuator({ runner: ip, log: silentLogger(), dryRun: true, onDryRun: (l) => printed.push(l) });
  const r = await reconcile(act, STATES[1]!.target);
  assert.equal(printed.length, 5);
  assert.equal(printed[4], 'ip route replace default via 10.0.2.1 dev wwan0 metric 0 proto 77');
  assert.deepEqual(ip.log, []);
  assert.equal(r.result.applied.length, 5);
});

test('uplinks without interface, gateway or address are reported, not guessed', async () => {
  const ip = new FakeIp().addLink('eth0', '10.0.1.2/24');
  const r = await reconcile(actuator(ip), {
    uplinks: [
      UplinkSchema.parse({ name: 'a' }),
      UplinkSchema.parse({ name: 'b', interface: 'eth0' }),
      UplinkSchema.parse({ name: 'c', interface: 'wwan9', gateway: '1.2.3.4' }),
    ],
    active: 'b',
    linkUp: {},
    opts: OPTS,
    downByUs: ['wwan0'],
  });
  assert.equal(r.problems.length, 4);
  assert.match(r.problems.join('\n'), /a: set uplinks\[\]\.interface/);
  assert.match(r.problems.join('\n'), /b: no gateway configured/);
  assert.match(r.problems.join('\n'), /c: wwan9 has no IPv4 address \(interface not found\)/);
  assert.deepEqual(ip.log, []);
});

test('parsers read real iproute2 JSON', () => {
  const routes = parseRoutes(
    '[{"dst":"default","gateway":"10.9.2.1","dev":"v1","table":"7101","protocol":"77","flags":[]},{"dst":"fe80::/64","dev":"v1","protocol":"kernel","metric":256,"flags":[],"pref":"medium"},{"type":"local","dst":"10.9.1.2","dev":"v0","table":"local","protocol":"kernel","scope":"host","prefsrc":"10.9.1.2","flags":[]}]',
  );
  assert.deepEqual(routes[0], { table: '7101', dst: 'default', gateway: '10.9.2.1', dev: 'v1', metric: 0, protocol: '77', type: 'unicast' });
  assert.equal(routes.length, 2);
  assert.deepEqual(parseRules('[{"priority":0,"src":"all","table":"local"},{"priority":7101,"src":"10.9.2.0","srclen":24,"table":"7101"}]')[1], {
    priority: 7101,
    src: '10.9.2.0/24',
    table: '7101',
  });
  assert.throws(() => parseRoutes('not json'), { code: 'LW_ROUTE_IP_OUTPUT' });
});
