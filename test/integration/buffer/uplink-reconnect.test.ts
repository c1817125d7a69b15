/** D1: after the failover announces a new active uplink, the buffer's real undici pool opens a new connection; a request in flight on the old one is still delivered. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createBufferComponent } from '../../../buffer/component.ts';
import { realBufferDeps } from '../../../buffer/adapters.ts';
import { bufferContext } from '../../support/buffer-context.ts';

/** Upper bound of any wait below (a local send takes milliseconds). */
const WAIT_MS = 10_000;
/** How long the receiver holds the answer to the request that is in flight during the uplink change. */
const SLOW_ANSWER_MS = 600;

interface Seen {
  body: string;
  port: number;
}

async function receiver(slow: (body: string) => boolean) {
  const seen: Seen[] = [];
  const closedPorts: number[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      seen.push({ body: body.trim(), port: req.socket.remotePort! });
      setTimeout(
        () => {
          res.statusCode = 204;
          res.end();
        },
        slow(body) ? SLOW_ANSWER_MS : 0,
      );
    });
  });
  server.on('connection', (s: Socket) => {
    const port = s.remotePort!;
    s.on('close', () => closedPorts.push(port));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    seen,
    closedPorts,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + WAIT_MS;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('sink connections follow the active uplink', () => {
  it('reconnects on a failover and a failback, and delivers the batch in flight during the change exactly once', async () => {
    const rx = await receiver((b) => b.includes('slow'));
    const t = bufferContext({ sinks: [{ name: 'logs', url: rx.url, protocol: 'ndjson', compression: 'none' }], buffer: { flush: { pollMs: 50 } } });
    t.ctx.bus.emit('active', 'gw1'); // the failover announced gw1 before the buffer started
    const comp = createBufferComponent(t.ctx, realBufferDeps(t.ctx));
    try {
      await comp.start();
      const svc = comp.service;
      const send = async (line: string, n: number): Promise<void> => {
        await svc.appendBody('logs', Buffer.from(line + '\n'), { contentType: 'application/x-ndjson' });
        await until(() => rx.seen.length >= n, `record ${line} at the receiver`);
      };
      await send('one', 1);
      await send('two', 2);
      // The pool holds up to two connections; which one a batch takes is undici's choice, so sets of ports are compared.
      const onGw1 = new Set(rx.seen.map((s) => s.port));

      t.ctx.bus.emit('active', 'gw2');
      await send('three', 3);
      assert.ok(!onGw1.has(rx.seen[2]!.port), "after the failover a new connection (the new route's source address) is used");
      await until(() => [...onGw1].every((p) => rx.closedPorts.includes(p)), "the old uplink's idle connections closed");
      const onGw2 = rx.seen[2]!.port;

      t.ctx.bus.emit('active', 'gw2'); // the same uplink again: no reconnect
      await send('four', 4);
      assert.ok(!onGw1.has(rx.seen[3]!.port));
      await new Promise((r) => setTimeout(r, 200));
      assert.ok(!rx.closedPorts.includes(onGw2), 'a repeated announcement of the same uplink leaves its connections open');

      // A batch on the wire when the failback is announced: its answer arrives on the old connection and counts once.
      await svc.appendBody('logs', Buffer.from('slow\n'), { contentType: 'application/x-ndjson' });
      await until(() => rx.seen.length >= 5, 'the slow batch at the receiver');
      t.ctx.bus.emit('active', 'gw1');
      await send('six', 6);
      const beforeFailback = new Set(rx.seen.slice(0, 5).map((s) => s.port));
      assert.ok(!onGw1.has(rx.seen[4]!.port), 'the slow batch went out on a gw2 connection');
      assert.ok(!beforeFailback.has(rx.seen[5]!.port), 'after the failback a new connection again');
      await until(() => svc.store!.usage().records === 0, 'every record acknowledged');
      const status = svc.forwarders.get('logs')!.status();
      assert.equal(status.sentBatches, 6);
      assert.equal(status.lastError, null);
      assert.deepEqual(
        rx.seen.map((s) => s.body),
        ['one', 'two', 'three', 'four', 'slow', 'six'],
        'each record sent once, none lost',
      );
    } finally {
      await comp.stop();
      await rx.close();
      t.cleanup();
    }
  });
});
