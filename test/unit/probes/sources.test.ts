/** Probe sources per family: IPv6 targets bind the uplink's global IPv6 address; a family the uplink lacks is a problem, never an unbound probe. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import { bindFor } from '../../../probes/light-probes.ts';
import { expand6, probeableTargets, resolveSources, unusable6 } from '../../../probes/source.ts';
import { parseTarget } from '../../../probes/targets.ts';

const v4 = (address: string): NetworkInterfaceInfo => ({ address, family: 'IPv4', internal: false, netmask: '', mac: '', cidr: null });
const v6 = (address: string): NetworkInterfaceInfo => ({ address, family: 'IPv6', internal: false, netmask: '', mac: '', cidr: null, scopeid: 0 });
const table = { wwan0: [v6('fe80::1'), v4('10.64.1.2'), v6('2001:db8:1::2')], eth0: [v4('192.0.2.10'), v6('fe80::2')], tun0: [v6('2001:db8:9::9')] };

test('IPv6 source: sourceAddress6, else the first global IPv6 of the interface (never link-local)', () => {
  assert.deepEqual(resolveSources({ name: 'lte', interface: 'wwan0' }, table), { v4: { address: '10.64.1.2' }, v6: { address: '2001:db8:1::2' } });
  assert.deepEqual(resolveSources({ name: 'lte', interface: 'wwan0', sourceAddress6: '2001:db8:1::7' }, table).v6, { address: '2001:db8:1::7' });
  assert.deepEqual(resolveSources({ name: 'd' }, table), { v4: {}, v6: {} }, 'unbound: the default route decides, both families');
});

test('a family the uplink lacks is a problem saying what to set', () => {
  const eth = resolveSources({ name: 'wan', interface: 'eth0' }, table);
  assert.deepEqual(eth.v4, { address: '192.0.2.10' });
  assert.match(eth.v6.problem ?? '', /eth0 has no global IPv6 address.*set uplinks\[\]\.sourceAddress6/);
  assert.match(resolveSources({ name: 'wan', sourceAddress: '192.0.2.10' }, table).v6.problem ?? '', /binds probes to 192\.0\.2\.10.*sourceAddress6/);
  const tun = resolveSources({ name: 'v6only', interface: 'tun0' }, table);
  assert.match(tun.v4.problem ?? '', /tun0 has no IPv4 address/);
  assert.deepEqual(tun.v6, { address: '2001:db8:9::9' });
});

test('targets split by what the uplink can send: each set-aside target with its reason', () => {
  const targets = ['1.1.1.1:443', '[2606:4700::1111]:443', 'icmp://[2606:4700::1001]', 'probe.example:9781'].map((t) => parseTarget(t));
  const eth = probeableTargets(targets, resolveSources({ name: 'wan', interface: 'eth0' }, table));
  assert.deepEqual(
    eth.usable.map((t) => t.id),
    ['1.1.1.1:443', 'probe.example:9781'],
  );
  assert.deepEqual(
    eth.skipped.map((k) => k.id),
    ['[2606:4700::1111]:443', 'icmp://[2606:4700::1001]'],
  );
  const lte = probeableTargets(targets, resolveSources({ name: 'lte', interface: 'wwan0' }, table));
  assert.equal(lte.skipped.length, 0);
});

test('a probe binds the address of its target family', () => {
  const io = { sourceAddress: '10.64.1.2', sourceAddress6: '2001:db8:1::2' };
  assert.equal(bindFor(io, '2606:4700::1111'), '2001:db8:1::2');
  assert.equal(bindFor(io, '1.1.1.1'), '10.64.1.2');
  assert.equal(bindFor(io, 'probe.example'), '10.64.1.2', 'a name: IPv4, as before dual-stack probing');
});

test('an IPv6 sourceAddress is the IPv6 source (an IPv6-only uplink); IPv4 then comes from the interface or is a problem', () => {
  assert.deepEqual(resolveSources({ name: 'v6', sourceAddress: '2001:db8:9::9' }, table).v6, { address: '2001:db8:9::9' });
  assert.match(resolveSources({ name: 'v6', sourceAddress: '2001:db8:9::9' }, table).v4.problem ?? '', /cannot reach IPv4 targets/);
  assert.deepEqual(resolveSources({ name: 'lte', interface: 'wwan0', sourceAddress: '2001:db8:1::7' }, table), {
    v4: { address: '10.64.1.2' },
    v6: { address: '2001:db8:1::7' },
  });
});

test('a missing IPv4 source is fatal for the round (linkward routes an uplink by IPv4), a missing IPv6 one only sets targets aside', () => {
  const targets = ['1.1.1.1:443', '[2606:4700::1111]:443'].map((t) => parseTarget(t));
  const tun = probeableTargets(targets, resolveSources({ name: 'v6only', interface: 'tun0' }, table));
  assert.match(tun.fatal ?? '', /tun0 has no IPv4 address/);
  const eth = probeableTargets(targets, resolveSources({ name: 'wan', interface: 'eth0' }, table));
  assert.equal(eth.fatal, undefined);
  assert.deepEqual(
    eth.skipped.map((k) => k.id),
    ['[2606:4700::1111]:443'],
  );
});

test('an IPv6 address still in duplicate address detection (tentative) or refused (dadfailed) is not a source', () => {
  const proc = [
    '20010db8000100000000000000000002 03 40 00 40     wwan0', // 2001:db8:1::2 tentative
    '20010db8000100000000000000000003 03 40 00 88     wwan0', // dadfailed | permanent
    '20010db8000100000000000000000004 03 40 00 80     wwan0', // permanent: usable
    'fe800000000000000000000000000001 03 40 20 80     wwan0',
  ].join('\n');
  const unusable = unusable6(proc);
  assert.deepEqual([...unusable], ['20010db8000100000000000000000002', '20010db8000100000000000000000003']);
  assert.equal(expand6('2001:db8:1::2'), '20010db8000100000000000000000002');
  assert.equal(expand6('::1'), '00000000000000000000000000000001');
  assert.equal(expand6('10.0.0.1'), '');
  const t = { wwan0: [v4('10.64.1.2'), v6('2001:db8:1::2'), v6('2001:db8:1::3'), v6('2001:db8:1::4')] };
  assert.deepEqual(resolveSources({ name: 'lte', interface: 'wwan0' }, t, unusable).v6, { address: '2001:db8:1::4' });
  assert.match(
    resolveSources({ name: 'lte', interface: 'wwan0' }, { wwan0: [v4('10.64.1.2'), v6('2001:db8:1::2')] }, unusable).v6.problem ?? '',
    /no global IPv6 address/,
  );
});
