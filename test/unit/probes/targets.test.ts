/** Unit tests of target parsing, ping output parsing, the adaptive planner and the change rule. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLwError } from '../../../agent/base/errors.ts';
import { unmapIpv4 } from '../../../agent/base/host-port.ts';
import { parseTarget, parseTargets } from '../../../probes/targets.ts';
import { parsePing, pingArgs, PING_WIRE_BYTES } from '../../../probes/icmp.ts';
import { afterRound, initialPlanner, nextDelayMs, quorumNow, SETTLE_ROUNDS, targetsForRound } from '../../../probes/adaptive.ts';
import { suggestsChange } from '../../../probes/change.ts';
import { resolveSourceAddress } from '../../../probes/source.ts';
import { echoReply, encodeEcho, parseEchoReply } from '../../../probes/echo-protocol.ts';
import { ProbesConfigSchema } from '../../../agent/config/probes.ts';

test('target forms map to endpoints', () => {
  assert.deepEqual(parseTarget('1.1.1.1:443').endpoints, [{ kind: 'tcp', host: '1.1.1.1', port: 443 }]);
  assert.deepEqual(parseTarget('[2001:db8::1]:53', 7).endpoints, [
    { kind: 'tcp', host: '2001:db8::1', port: 53 },
    { kind: 'udp', host: '2001:db8::1', port: 7 },
  ]);
  assert.deepEqual(parseTarget('https://example.com/x').endpoints, [{ kind: 'tcp', host: 'example.com', port: 443 }]);
  assert.deepEqual(parseTarget('icmp://10.0.0.1').endpoints, [{ kind: 'icmp', host: '10.0.0.1' }]);
  assert.deepEqual(parseTarget('udp://h:9781').endpoints, [{ kind: 'udp', host: 'h', port: 9781 }]);
  const lw = parseTarget('linkward://h:9781');
  assert.deepEqual(lw.endpoints, [{ kind: 'udp', host: 'h', port: 9781 }]);
  assert.deepEqual(lw.fallback, [{ kind: 'tcp', host: 'h', port: 9781 }]);
  assert.throws(
    () => parseTargets(['ok:1', 'nope', 'ftp://x:1']),
    (e) => isLwError(e, 'LW_PROBE_TARGET_INVALID') && /nope, ftp:\/\/x:1/.test(e.message),
  );
  assert.throws(
    () => parseTarget('tcp://h'),
    (e) => isLwError(e, 'LW_PROBE_TARGET_INVALID'),
  );
});

test('an IPv4-mapped IPv6 target is probed as the IPv4 address it maps, in every spelling; other IPv6 stays as it is', () => {
  for (const t of ['[::ffff:10.0.0.1]:9781', 'tcp://[::ffff:10.0.0.1]:9781', '[::FFFF:a00:1]:9781', '[0:0:0:0:0:ffff:10.0.0.1]:9781'])
    assert.deepEqual(parseTarget(t).endpoints, [{ kind: 'tcp', host: '10.0.0.1', port: 9781 }], t);
  assert.deepEqual(parseTarget('icmp://[::ffff:192.168.1.254]').endpoints, [{ kind: 'icmp', host: '192.168.1.254' }]);
  assert.equal(parseTarget('[::1]:1').endpoints[0]!.host, '::1');
  assert.equal(parseTarget('[64:ff9b::a00:1]:1').endpoints[0]!.host, '64:ff9b::a00:1', 'NAT64 is IPv6 on the wire');
  for (const other of ['::ffff:0:a00:1', '::10.0.0.1', 'fe80::1%eth0', 'example.com', '10.0.0.1', 'x]@[::ffff:1.2.3.4'])
    assert.equal(unmapIpv4(other), other, `${other}: not an IPv4-mapped literal`);
  assert.equal(unmapIpv4('::ffff:ffff:ffff'), '255.255.255.255');
});

test('ping output parsing: replies by sequence, gaps are losses', () => {
  const out = `PING 10.0.0.1 (10.0.0.1) 16(44) bytes of data.
24 bytes from 10.0.0.1: icmp_seq=1 ttl=64 time=0.045 ms
24 bytes from 10.0.0.1: icmp_seq=3 ttl=64 time=12.5 ms

--- 10.0.0.1 ping statistics ---
3 packets transmitted, 2 received, 33.3333% packet loss, time 2003ms`;
  const a = parsePing(out, 3);
  assert.deepEqual(
    a.map((x) => x.rttMs),
    [0.045, null, 12.5],
  );
  assert.equal(a[0]?.bytes, PING_WIRE_BYTES);
  assert.deepEqual(pingArgs('h', 1, 200, 2000, '10.0.0.5').slice(-3), ['-I', '10.0.0.5', 'h']);
});

test('planner: all targets until settled, then rotation at a longer interval; failure resets', () => {
  const cfg = { intervalMs: 5000, maxIntervalMs: 20000, quorum: 'majority' as const };
  let st = initialPlanner(cfg);
  const ids = ['a', 'b', 'c'];
  let now = 0;
  for (let i = 0; i < SETTLE_ROUNDS; i++) {
    assert.deepEqual(targetsForRound(st, cfg, 3), [0, 1, 2]);
    now += 5000;
    st = afterRound(
      st,
      cfg,
      ids.map((id) => ({ id, up: true, lossless: true })),
      now,
      3,
    );
  }
  assert.equal(st.intervalMs, 10000);
  assert.deepEqual(targetsForRound(st, cfg, 3), [0]);
  st = afterRound(st, cfg, [{ id: 'a', up: true, lossless: true }], (now += 10000), 3);
  assert.deepEqual(targetsForRound(st, cfg, 3), [1]);
  assert.equal(quorumNow(st, cfg, ids, now).reachable, true);
  st = afterRound(st, cfg, [{ id: 'b', up: false, lossless: false }], (now += 10000), 3);
  assert.equal(st.intervalMs, 5000);
  assert.deepEqual(targetsForRound(st, cfg, 3), [0, 1, 2]);
  assert.deepEqual(quorumNow(st, cfg, ids, now), { up: 2, total: 3, reachable: true });
  // results older than the freshness horizon no longer count
  assert.equal(quorumNow(st, cfg, ids, now + 10 * 60_000).reachable, false);
  const d = nextDelayMs(st, 0.999);
  assert.ok(d >= 4500 && d <= 5500);
  assert.equal(nextDelayMs(st, 0.5), 5000);
});

test('change rule: large RTT shift or loss jump, not jitter', () => {
  assert.equal(suggestsChange({ rttMs: 40, lossPercent: 0 }, { rttMs: 50, lossPercent: 0 }), false);
  assert.equal(suggestsChange({ rttMs: 40, lossPercent: 0 }, { rttMs: 90, lossPercent: 0 }), true);
  assert.equal(suggestsChange({ rttMs: 1, lossPercent: 0 }, { rttMs: 3, lossPercent: 0 }), false);
  assert.equal(suggestsChange({ rttMs: 40, lossPercent: 0 }, { rttMs: 41, lossPercent: 10 }), true);
  assert.equal(suggestsChange(undefined, { rttMs: 41 }), false);
});

test('source address: configured, else first IPv4 of the interface, else an error saying what to fix', () => {
  const table = {
    wwan0: [
      { address: 'fe80::1', family: 'IPv6' as const, internal: false, netmask: '', mac: '', cidr: null, scopeid: 0 },
      { address: '10.64.1.2', family: 'IPv4' as const, internal: false, netmask: '', mac: '', cidr: null },
    ],
  };
  assert.equal(resolveSourceAddress({ name: 'lte', interface: 'wwan0' }, table), '10.64.1.2');
  assert.equal(resolveSourceAddress({ name: 'lte', interface: 'wwan0', sourceAddress: '10.9.9.9' }, table), '10.9.9.9');
  assert.equal(resolveSourceAddress({ name: 'd' }, table), undefined);
  assert.throws(
    () => resolveSourceAddress({ name: 'sat', interface: 'sat0' }, table),
    (e) => isLwError(e, 'LW_PROBE_NO_SOURCE'),
  );
});

test('echo protocol: token checked, reply is the 16-byte header, nonce must match', () => {
  const nonce = Buffer.from('abcdefgh');
  const req = encodeEcho(7, nonce, 'secret-token-12345');
  assert.equal(echoReply(req, 'wrong-token-123456'), null);
  const rep = echoReply(req, 'secret-token-12345');
  assert.ok(rep);
  assert.equal(rep.length, 16);
  assert.equal(parseEchoReply(rep, nonce), 7);
  assert.equal(parseEchoReply(rep, Buffer.from('zzzzzzzz')), null);
  assert.equal(echoReply(Buffer.from('nope'), undefined), null);
});

test('config: defaults, every key described, bad targets rejected with a path', () => {
  const d = ProbesConfigSchema.parse({});
  assert.equal(d.intervalMs, 5000);
  assert.equal(d.throughput.streams, 4);
  assert.equal(d.throughput.maxBytes, 8_000_000);
  assert.deepEqual(d.targets, []);
  const r = ProbesConfigSchema.safeParse({ targets: ['no port'], throughput: { cron: 'not a cron' } });
  assert.equal(r.success, false);
  const paths = r.error?.issues.map((i) => i.path.join('.')) ?? [];
  assert.ok(paths.includes('targets.0'));
  assert.ok(paths.includes('throughput.cron'));
  const shape = ProbesConfigSchema.shape;
  for (const [k, v] of Object.entries(shape)) assert.ok((v as { description?: string }).description, `probes.${k} has a description`);
});
