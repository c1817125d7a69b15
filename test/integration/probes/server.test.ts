/** Integration: the real probe server on loopback against the real light probes and throughput probe. */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { request } from 'undici';
import { systemClock } from '../../../agent/base/clock.ts';
import { systemRunner } from '../../../agent/base/exec.ts';
import { isLwError } from '../../../agent/base/errors.ts';
import { startProbeServer, type RunningProbeServer } from '../../../probes/server.ts';
import { tcpConnect, udpEcho } from '../../../probes/light-probes.ts';
import { icmpPing } from '../../../probes/icmp.ts';
import { runThroughput } from '../../../probes/throughput.ts';
import { encodeEcho } from '../../../probes/echo-protocol.ts';
import { DisturbanceWatch } from '../../../probes/disturbance.ts';
import { judgedThroughput } from '../../support/throughput-judged.ts';

const TOKEN = 'probe-token-0123456789';
let open: RunningProbeServer;
let secured: RunningProbeServer;

before(async () => {
  open = await startProbeServer({ host: '127.0.0.1', port: 0, maxBytesPerRequest: 8 * 1024 * 1024 });
  secured = await startProbeServer({ host: '127.0.0.1', port: 0, token: TOKEN });
});
after(async () => {
  await open.close();
  await secured.close();
});

test('download, upload, rtt and info endpoints of every layout answer', async () => {
  const base = `http://127.0.0.1:${open.port}`;
  for (const path of ['/linkward/down?bytes=100000', '/__down?bytes=100000']) {
    const r = await request(base + path);
    assert.equal(r.statusCode, 200);
    assert.equal((await r.body.arrayBuffer()).byteLength, 100_000);
  }
  const g = await request(base + '/backend/garbage.php?ckSize=1&r=1');
  assert.equal((await g.body.arrayBuffer()).byteLength, 1024 * 1024);
  for (const path of ['/linkward/up', '/__up', '/empty.php']) {
    const r = await request(base + path, { method: 'POST', body: Buffer.alloc(50_000) });
    assert.equal(r.statusCode, 200);
    assert.equal(((await r.body.json()) as { bytes: number }).bytes, 50_000);
  }
  const rtt = await request(base + '/linkward/rtt');
  assert.equal(rtt.statusCode, 200);
  await rtt.body.dump();
  const info = (await (await request(base + '/linkward/info')).body.json()) as { udpEchoPort: number };
  assert.equal(info.udpEchoPort, open.port);
});

test('per-request byte cap answers 413 for downloads and uploads', async () => {
  const base = `http://127.0.0.1:${open.port}`;
  const d = await request(base + '/linkward/down?bytes=9000000');
  assert.equal(d.statusCode, 413);
  await d.body.dump();
  const u = await request(base + '/linkward/up', { method: 'POST', body: Buffer.alloc(9_000_000) });
  assert.equal(u.statusCode, 413);
  await u.body.dump();
});

test('token: HTTP needs Bearer, UDP echo drops packets without it', async () => {
  const base = `http://127.0.0.1:${secured.port}`;
  const no = await request(base + '/linkward/rtt');
  assert.equal(no.statusCode, 401);
  await no.body.dump();
  const yes = await request(base + '/linkward/rtt', { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(yes.statusCode, 200);
  await yes.body.dump();
  const ep = { kind: 'udp' as const, host: '127.0.0.1', port: secured.port };
  const bad = await udpEcho(ep, { clock: systemClock, timeoutMs: 300 }, 2, 10);
  assert.deepEqual(
    bad.map((a) => a.rttMs),
    [null, null],
  );
  const good = await udpEcho(ep, { clock: systemClock, timeoutMs: 1000, token: TOKEN }, 3, 10);
  assert.equal(good.filter((a) => a.rttMs !== null).length, 3);
});

test('UDP echo replies are never larger than requests (no amplification)', async () => {
  const sock = createSocket('udp4');
  const sizes: number[] = [];
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
  sock.on('message', (m) => sizes.push(m.length));
  const req = encodeEcho(1, Buffer.alloc(8, 7), 'x'.repeat(100));
  sock.send(req, open.port, '127.0.0.1');
  sock.send(Buffer.alloc(500), open.port, '127.0.0.1');
  await new Promise((r) => setTimeout(r, 300));
  sock.close();
  assert.deepEqual(sizes, [16]);
  assert.ok(16 < req.length);
});

test('TCP connect RTT, refused port counts as an answer, bound to 127.0.0.1', async () => {
  const ok = await tcpConnect({ kind: 'tcp', host: '127.0.0.1', port: open.port }, { clock: systemClock, timeoutMs: 1000, sourceAddress: '127.0.0.1' });
  assert.ok(ok.rttMs !== null && ok.rttMs >= 0 && ok.rttMs < 1000);
  const probeSock = createSocket('udp4'); // find a closed TCP port: ephemeral UDP port numbers are rarely used by TCP listeners
  await new Promise<void>((r) => probeSock.bind(0, '127.0.0.1', () => r()));
  const closedPort = (probeSock.address() as { port: number }).port;
  probeSock.close();
  const refused = await tcpConnect({ kind: 'tcp', host: '127.0.0.1', port: closedPort }, { clock: systemClock, timeoutMs: 1000 });
  assert.ok(refused.rttMs !== null);
});

test('ICMP via system ping on loopback', async (t) => {
  const attempts = await icmpPing(systemRunner, '127.0.0.1', 2, 200, 1000);
  if (attempts.every((a) => a.error === 'LW_COMMAND_NOT_FOUND')) {
    assert.fail('ping not found: apt-get install iputils-ping');
  }
  t.diagnostic(`ping rtts ${attempts.map((a) => a.rttMs).join(',')}`);
  assert.equal(attempts.filter((a) => a.rttMs !== null).length, 2);
});

// One watch for the file, as the daemon has one: the figures are judged as the agent judges its own (warm-up aside).
const watch = new DisturbanceWatch(systemClock);

for (const preset of ['linkward', 'cloudflare', 'librespeed'] as const) {
  test(`throughput ${preset}: both directions measure, stay under the byte cap`, async (t) => {
    for (const direction of ['down', 'up'] as const) {
      const progress: number[] = [];
      const judged = await judgedThroughput(`http://127.0.0.1:${open.port}/`, direction, watch, {
        preset,
        onProgress: (p) => progress.push(p.mbps),
      });
      const r = judged.result;
      assert.deepEqual(r.errors, [], `${preset} ${direction} errors`);
      assert.ok(r.mbps !== undefined && r.mbps > 0, `${preset} ${direction}: a figure`);
      // Loopback is far faster than 10 Mbit/s, so a lower figure is the CPU's (CI's parallel phase ran this at 4.6
      // Mbit/s, load 8.4 on 2 cores): the agent must not vouch for it. Probe server and client share this process, so a
      // quiet machine may set a figure aside as CPU-bound too; one it vouches for must be a loopback figure.
      if (judged.suspect === null) assert.ok(r.mbps > 10, `${preset} ${direction}: vouched for ${r.mbps} Mbit/s on loopback`);
      else {
        assert.ok(['starved', 'cpu_bound'].includes(judged.suspect), `${preset} ${direction}: set aside as ${judged.suspect}`);
        t.diagnostic(`${preset} ${direction}: ${r.mbps.toFixed(1)} Mbit/s set aside (${judged.suspect}: ${judged.detail})`);
      }
      // linkward/cloudflare serve exactly what is asked; LibreSpeed serves whole MiB and the excess already in flight is counted
      const cap = preset === 'librespeed' && direction === 'down' ? 6_000_000 * 1.25 : 6_000_000;
      assert.ok(r.payloadBytes <= cap, `payload ${r.payloadBytes}`);
      assert.ok(r.bytesUsed >= r.payloadBytes);
      // 'allowance' too: on a CI machine busy with the parallel phase loopback may measure slowly enough that 2.5 s at
      // the measured rate is under the 6 MB cap (seen in CI 2026-12-04); only 'error' is wrong here
      assert.ok(['stable', 'bytes', 'allowance', 'time'].includes(r.stopReason), `${preset} ${direction}: stop reason ${r.stopReason}, ${r.mbps} Mbit/s`);
    }
  });
}

test('throughput against a dead server reports an error, not a figure', async () => {
  const r = await runThroughput({
    url: 'http://127.0.0.1:9/',
    preset: 'linkward',
    direction: 'down',
    streams: 2,
    maxBytes: 1_000_000,
    maxDurationMs: 2000,
    minMeasureMs: 300,
    stableTolerance: 0.1,
    clock: systemClock,
  });
  assert.equal(r.stopReason, 'error');
  assert.equal(r.mbps, undefined);
  assert.ok(r.errors.length > 0);
});

test('probe-server refuses a non-loopback listen without a token', async () => {
  await assert.rejects(startProbeServer({ host: '0.0.0.0', port: 0 }), (e) => isLwError(e, 'LW_PROBE_SERVER_INSECURE'));
});
