/** linkward init's proposal: uplinks from default routes (best metric first), backups from up interfaces, plumbing skipped; valid YAML. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseYaml, validateConfig } from '../../../agent/config/load.ts';
import type { AgentConfig } from '../../../agent/config/schema.ts';
import { effectiveUplinks } from '../../../agent/config/uplinks.ts';
import { parseAddrs, parseRoutes } from '../../../agent/route/ip-state.ts';
import { interfaceInfo } from '../../../agent/cli/interfaces.ts';
import { PROPOSED_TARGETS, proposeUplinks, renderProposal, type Proposal } from '../../../agent/cli/propose.ts';

/** `ip -4 -json route show table main` of a store gateway: fibre (metric 100) and LTE (metric 700), plus k3s plumbing. */
const ROUTES = JSON.stringify([
  { dst: 'default', gateway: '100.64.0.1', dev: 'wwan0', protocol: 'dhcp', metric: 700, flags: [] },
  { dst: 'default', gateway: '192.168.1.1', dev: 'enp1s0', protocol: 'dhcp', metric: 100, flags: [] },
  { dst: 'default', gateway: '192.168.1.1', dev: 'enp1s0', protocol: 'static', metric: 900, flags: [] },
  { dst: 'default', dev: 'cni0', metric: 50, flags: [] },
  { dst: '10.42.0.0/24', dev: 'cni0', protocol: 'kernel', scope: 'link', prefsrc: '10.42.0.1', flags: [] },
]);
const ADDRS = JSON.stringify([
  { ifname: 'lo', flags: ['LOOPBACK', 'UP', 'LOWER_UP'], addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }] },
  { ifname: 'enp1s0', flags: ['UP', 'LOWER_UP'], addr_info: [{ family: 'inet', local: '192.168.1.20', prefixlen: 24 }] },
  { ifname: 'wwan0', flags: ['UP', 'LOWER_UP'], addr_info: [{ family: 'inet', local: '100.64.3.7', prefixlen: 30 }] },
  { ifname: 'enp2s0', flags: ['UP', 'LOWER_UP'], addr_info: [{ family: 'inet', local: '10.9.0.2', prefixlen: 24 }] },
  { ifname: 'flannel.1', flags: ['UP', 'LOWER_UP'], addr_info: [{ family: 'inet', local: '10.42.0.0', prefixlen: 32 }] },
  { ifname: 'veth12ab', flags: ['UP', 'LOWER_UP'], addr_info: [] },
  { ifname: 'wlan0', flags: ['BROADCAST'], addr_info: [] },
]);

/** The proposal as written to the file, parsed and validated as `config validate` would (both must succeed). */
function rendered(p: Proposal, generatedAt: string, kubernetes: boolean): { text: string; config: AgentConfig } {
  const text = renderProposal(p, generatedAt, { kubernetes });
  const parsed = parseYaml(text);
  assert.deepEqual(parsed.problems, []);
  const v = validateConfig(parsed.value);
  assert.ok(v.ok, JSON.stringify(!v.ok && v.problems));
  return { text, config: v.config };
}

test('default routes become uplinks by metric, one per interface; an up interface without one is a possible backup; plumbing is skipped', () => {
  const p = proposeUplinks(parseRoutes(ROUTES), parseAddrs(ADDRS));
  assert.deepEqual(
    p.uplinks.map((u) => [u.name, u.interface, u.priority, u.metered]),
    [
      ['enp1s0', 'enp1s0', 10, false],
      ['wwan0', 'wwan0', 20, true],
      ['enp2s0', 'enp2s0', 30, false],
    ],
  );
  assert.match(p.uplinks[0]?.why ?? '', /via 192\.168\.1\.1 \(metric 100, dhcp\)/);
  assert.match(p.uplinks[2]?.why ?? '', /no IPv4 default route/);
  assert.ok(p.todo.some((t) => /probes\.throughput\.url/.test(t)));
});

test('systeminformation facts: Wi-Fi, link speed and virtual devices named in the reasons; a virtual device stays proposed', () => {
  const addrs = JSON.stringify([
    ...JSON.parse(ADDRS),
    { ifname: 'wg0', flags: ['UP', 'LOWER_UP'], addr_info: [{ family: 'inet', local: '10.77.0.2', prefixlen: 32 }] },
  ]);
  const info = interfaceInfo([
    { iface: 'enp1s0', virtual: false, type: 'wired', speed: 1000 },
    { iface: 'wwan0', virtual: false, type: 'wired', speed: null },
    { iface: 'enp2s0', virtual: false, type: 'wireless', speed: -1 },
    { iface: 'wg0', virtual: true, type: 'virtual', speed: null },
  ]);
  const p = proposeUplinks(parseRoutes(ROUTES), parseAddrs(addrs), info);
  // PPP modems, VLANs and bonds are virtual devices too: wg0 stays, with the reason saying what to check
  assert.deepEqual(
    p.uplinks.map((u) => u.interface),
    ['enp1s0', 'wwan0', 'enp2s0', 'wg0'],
  );
  assert.match(p.uplinks[0]?.why ?? '', /link 1000 Mbit\/s$/);
  assert.doesNotMatch(p.uplinks[1]?.why ?? '', /Mbit|Wi-Fi|virtual/);
  assert.match(p.uplinks[2]?.why ?? '', /no IPv4 default route, Wi-Fi:/);
  assert.match(p.uplinks[3]?.why ?? '', /a virtual device \(PPP, VLAN and bond uplinks are; a VPN tunnel is not/);
  // without the facts, the same uplinks and no such remark
  const plain = proposeUplinks(parseRoutes(ROUTES), parseAddrs(addrs)).uplinks;
  assert.deepEqual(
    plain.map((u) => u.interface),
    ['enp1s0', 'wwan0', 'enp2s0', 'wg0'],
  );
  assert.doesNotMatch(plain[3]?.why ?? '', /virtual/);
});

test('the rendered file is valid config, keeps the order, proposes the targets and never pins a gateway', () => {
  const p = proposeUplinks(parseRoutes(ROUTES), parseAddrs(ADDRS));
  const { text, config } = rendered(p, '2026-12-03T00:00:00.000Z', true);
  assert.deepEqual(
    effectiveUplinks(config.uplinks).map((u) => [u.name, u.interface, u.priority, u.metered, u.gateway]),
    [
      ['enp1s0', 'enp1s0', 10, false, undefined],
      ['wwan0', 'wwan0', 20, true, undefined],
      ['enp2s0', 'enp2s0', 30, false, undefined],
    ],
  );
  assert.deepEqual(config.probes.targets, [...PROPOSED_TARGETS]);
  assert.equal(config.kubernetes.enabled, true);
  assert.match(text, /^ +# enp1s0: default route via 192\.168\.1\.1/m);
});

test('no default route and no addressed interface: an empty list, a TODO saying so, still valid', () => {
  const p = proposeUplinks(
    [],
    parseAddrs(JSON.stringify([{ ifname: 'lo', flags: ['UP'], addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }] }])),
  );
  assert.deepEqual(p.uplinks, []);
  assert.match(p.todo[0] ?? '', /no uplink found/);
  const v = validateConfig(parseYaml(renderProposal(p, 'x', { kubernetes: false })).value);
  assert.ok(v.ok);
});

test('interface names that are not valid uplink names are mapped, and collisions get a suffix', () => {
  const routes = parseRoutes(
    JSON.stringify([
      { dst: 'default', gateway: '10.0.0.1', dev: 'ETH_0', metric: 1, flags: [] },
      { dst: 'default', gateway: '10.0.1.1', dev: 'eth-0', metric: 2, flags: [] },
    ]),
  );
  const p = proposeUplinks(routes, []);
  assert.deepEqual(
    p.uplinks.map((u) => u.name),
    ['eth-0', 'eth-0-2'],
  );
  assert.ok(validateConfig(parseYaml(renderProposal(p, 'x', { kubernetes: false })).value).ok);
});

test('an IPv6 default route on an interface proposes gateway6: auto (IPv6 switches with IPv4), a backup too; one without stays IPv4-only', () => {
  /** `ip -6 -json route show table main`: the LTE modem announces a router (RA), the fibre line gives no IPv6. */
  const ROUTES6 = JSON.stringify([
    { dst: 'default', gateway: 'fe80::1', dev: 'wwan0', protocol: 'ra', metric: 1024, flags: [], pref: 'medium' },
    { dst: 'fe80::/64', dev: 'wwan0', protocol: 'kernel', metric: 256, flags: [], pref: 'medium' },
    { dst: 'default', gateway: 'fe80::7', dev: 'enp2s0', protocol: 'ra', metric: 1100, flags: [], pref: 'medium' },
  ]);
  const p = proposeUplinks([...parseRoutes(ROUTES), ...parseRoutes(ROUTES6, 6)], parseAddrs(ADDRS));
  assert.deepEqual(
    p.uplinks.map((u) => [u.interface, u.gateway6 ?? null]),
    [
      ['enp1s0', null],
      ['wwan0', 'auto'],
      ['enp2s0', 'auto'],
    ],
  );
  assert.match(p.uplinks[1]?.why ?? '', /IPv6 default via fe80::1 \(ra\)/);
  assert.match(p.uplinks[2]?.why ?? '', /no IPv4 default route; IPv6 default via fe80::7 \(ra\)/);
  const { text, config } = rendered(p, '2026-12-04T00:00:00Z', false);
  assert.match(text, /^ +gateway6: auto$/m);
  assert.deepEqual(
    effectiveUplinks(config.uplinks).map((u) => [u.name, u.gateway6 ?? null]),
    [
      ['enp1s0', null],
      ['wwan0', 'auto'],
      ['enp2s0', 'auto'],
    ],
  );
});
