/** Kernel TCP counters through the native addon: readings on a live socket, and the fallback when the addon is off. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { kernelReading, socketFd, tcpInfoAvailable, tcpInfoOf } from '../../../probes/tcp-info.ts';
import { ProbeMeter } from '../../../probes/throughput-meter.ts';

const PAYLOAD = 300_000;

/** A loopback connection that has received PAYLOAD bytes (read by the client) and is still open. */
async function loaded(): Promise<{ c: Socket; read: number; close: () => void }> {
  const srv = createServer((s) => s.on('error', () => undefined).write(Buffer.alloc(PAYLOAD)));
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const c = connect((srv.address() as AddressInfo).port, '127.0.0.1');
  let read = 0;
  await new Promise<void>((resolve) =>
    c.on('data', (d: Buffer) => {
      read += d.length;
      if (read >= PAYLOAD) resolve();
    }),
  );
  return {
    c,
    read,
    close: () => {
      c.destroy();
      srv.close();
    },
  };
}

test('tcpInfoOf reads the kernel counters of a live socket (skipped where the addon is not built)', async (t) => {
  if (!tcpInfoAvailable()) return t.skip('native addon with tcpInfo not built');
  const { c, read, close } = await loaded();
  try {
    const ti = tcpInfoOf(c);
    assert.ok(ti);
    assert.equal(ti.bytesReceived, read, 'in-order bytes received = bytes read once the reader caught up');
    assert.ok(ti.dataSegsIn > 0 && ti.rttUs > 0);
    assert.equal(kernelReading(c, 5)?.bytesReceived, read);
  } finally {
    close();
  }
});

test('a closed socket has no fd and no reading', async () => {
  const { c, close } = await loaded();
  close();
  await once(c, 'close');
  assert.equal(socketFd(c), undefined);
  assert.equal(tcpInfoOf(c), undefined);
  assert.equal(kernelReading(c, 5), undefined);
});

test('without the addon (LINKWARD_TCP_INFO=off) the counters are unavailable and the meter falls back', () => {
  const here = fileURLToPath(new URL('../../../probes/', import.meta.url));
  const code =
    `const t = await import(${JSON.stringify(`${here}tcp-info.ts`)}); const m = await import(${JSON.stringify(`${here}throughput-meter.ts`)});` +
    ` const meter = new m.ProbeMeter(4); console.log(JSON.stringify([t.tcpInfoAvailable(), meter.kernelCounters, meter.kernelSample(0) ?? null]));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], { env: { ...process.env, LINKWARD_TCP_INFO: 'off' }, encoding: 'utf8' });
  assert.deepEqual(JSON.parse(out), [false, false, null]);
});

test('ProbeMeter.kernelSample sums what the kernel received on its connections (skipped without the addon)', async (t) => {
  if (!tcpInfoAvailable()) return t.skip('native addon with tcpInfo not built');
  const meter = new ProbeMeter(1);
  assert.equal(meter.kernelSample(0), 0, 'no connection yet');
  const srv = createServer((s) => s.on('error', () => undefined).write(Buffer.alloc(PAYLOAD)));
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as AddressInfo).port;
  const sock = await new Promise<Socket>((resolve, reject) =>
    meter.connect({ hostname: '127.0.0.1', host: '127.0.0.1', port: String(port), protocol: 'http:', servername: null } as never, (err, s) =>
      err ? reject(err) : resolve(s as Socket),
    ),
  );
  try {
    // paused: nothing is read by the client, the kernel still receives (up to its buffers)
    sock.pause();
    const deadline = Date.now() + 2_000;
    while ((meter.kernelSample(0) ?? 0) < 64 * 1024 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok((meter.kernelSample(0) ?? 0) >= 64 * 1024, 'kernel bytes counted before the client reads them');
    assert.ok(sock.bytesRead < (meter.kernelSample(0) ?? 0));
  } finally {
    sock.destroy();
    srv.close();
  }
});
