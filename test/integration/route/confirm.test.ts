/** Confirm step: endpoint parsing and real TCP connects on loopback (one listener, one closed port). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { systemClock } from '../../../agent/base/clock.ts';
import { confirmReachable, parseEndpoint } from '../../../agent/route/confirm.ts';

test('confirm endpoints are parsed from probe target forms; udp/icmp are skipped', () => {
  assert.deepEqual(parseEndpoint('10.0.0.1:6443'), { host: '10.0.0.1', port: 6443 });
  assert.deepEqual(parseEndpoint('linkward://probe.example:9781'), { host: 'probe.example', port: 9781 });
  assert.deepEqual(parseEndpoint('tcp://[2001:db8::1]:443'), { host: '2001:db8::1', port: 443 });
  assert.deepEqual(parseEndpoint('https://example.com/x'), { host: 'example.com', port: 443 });
  assert.equal(parseEndpoint('udp://10.0.0.1:9781'), null);
  assert.equal(parseEndpoint('icmp://10.0.0.1'), null);
});

test('confirm succeeds on the first reachable target and fails within the timeout otherwise', async (t) => {
  const server = createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const port = (server.address() as { port: number }).port;
  // A port that was just free: bind and close it so nothing listens there.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const closed = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));

  const ok = await confirmReachable(
    [
      { host: '127.0.0.1', port: closed },
      { host: '127.0.0.1', port },
    ],
    2000,
    systemClock,
  );
  assert.equal(ok.ok, true);
  assert.equal(ok.detail, `127.0.0.1:${port}`);
  const bad = await confirmReachable([{ host: '127.0.0.1', port: closed }], 600, systemClock);
  assert.equal(bad.ok, false);
  assert.ok(bad.ms >= 550 && bad.ms < 2000, `gave up after ${bad.ms} ms`);
  assert.match(bad.detail, /no target reached within 600 ms/);
  const none = await confirmReachable([], 600, systemClock);
  assert.match(none.detail, /no confirm targets/);
});

test('per-family confirm: the families are tried side by side, so dead IPv4 targets do not use up the IPv6 time', async () => {
  // each dead target takes its whole 1-s attempt; sequentially 2 + 2 dead attempts would pass the 2.5-s deadline
  const up = new Set(['10.0.0.3', '2001:db8::3']);
  const connector = (ep: { host: string }, timeoutMs: number): Promise<boolean> =>
    new Promise((r) => setTimeout(() => r(up.has(ep.host)), up.has(ep.host) ? 5 : timeoutMs));
  const targets = ['10.0.0.1:1', '10.0.0.2:1', '10.0.0.3:1', '[2001:db8::1]:1', '[2001:db8::2]:1', '[2001:db8::3]:1'].map((t) => parseEndpoint(t)!);
  const r = await confirmReachable(targets, 2_500, systemClock, connector, [4, 6]);
  assert.equal(r.ok, true, r.detail);
  assert.equal(r.detail, '10.0.0.3:1 (IPv4), [2001:db8::3]:1 (IPv6)');
  assert.ok(r.ms < 2_500, `${r.ms} ms`);
});
