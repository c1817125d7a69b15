/** A fast-path connection on its own (adoptConnection over a plain net server): its timeouts, a server close, a throwing route. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { adoptConnection, FastConnections, type FastPathDeps, type FastTimeouts } from '../../../agent/http/fast-conn.ts';
import { RawConnection, rawPost } from '../../support/raw-http.ts';

/** A plain net server whose every connection the fast path adopts; handed-off connections are cut (nothing behind it). */
async function listenAdopting(serve: FastPathDeps['serve'], timeouts: FastTimeouts, onError: FastPathDeps['onError'] = (e) => assert.fail(String(e))) {
  const open = new FastConnections();
  const deps: FastPathDeps = { serve, handOff: (sock) => sock.destroy(), nowMs: () => Date.now(), onError };
  const server = createNetServer({ allowHalfOpen: true }, (socket) => adoptConnection(socket, deps, open, timeouts));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { open, address: `127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

describe('fast-path connection timeouts (adoptConnection with short timeouts)', () => {
  it('closes a silent connection after firstByteMs and an idle one after keepAliveMs, never one whose answer is pending', async () => {
    let delayMs = 0;
    const { open, address, close } = await listenAdopting(() => new Promise((r) => setTimeout(() => r({ status: 202, json: { id: 1 } }), delayMs)), {
      firstByteMs: 150,
      keepAliveMs: 300,
    });
    try {
      const silent = await RawConnection.open(address);
      const t0 = Date.now();
      assert.ok(await silent.waitClosed(2_000), 'a connection that sends nothing is closed');
      assert.ok(Date.now() - t0 >= 100, `not before firstByteMs (${Date.now() - t0} ms)`);

      delayMs = 600; // longer than keepAliveMs: the answer still comes
      const slow = await RawConnection.open(address);
      slow.send(rawPost('/v1/ingest/app', '{}\n'));
      const r = await slow.next(3_000);
      assert.equal(r?.headers['keep-alive'], 'timeout=0', 'the Keep-Alive header names the idle timeout in whole seconds');
      assert.equal(r?.status, 202);
      const t1 = Date.now();
      assert.ok(await slow.waitClosed(3_000), 'idle after the answer: closed');
      assert.ok(Date.now() - t1 >= 1_200, `not before keepAliveMs and node:http's 1-s buffer (${Date.now() - t1} ms)`);
      assert.equal(open.size, 0, 'closed connections are forgotten');

      delayMs = 0;
      const idle = await RawConnection.open(address);
      idle.send(rawPost('/v1/ingest/app', '{}\n'));
      assert.equal((await idle.next())?.status, 202);
      const busy = await RawConnection.open(address);
      delayMs = 300;
      busy.send(rawPost('/v1/ingest/app', '{}\n'));
      await new Promise((r) => setTimeout(r, 50));
      open.close(2_000);
      assert.ok(await idle.waitClosed(500), 'server close: an idle connection is cut at once');
      const last = await busy.next();
      assert.equal(last?.status, 202, 'a busy one gets its answer');
      assert.equal(last?.headers.connection, 'close');
      assert.ok(await busy.waitClosed(500), 'and is then closed');
    } finally {
      close();
    }
  });

  it('a connection opened just before the close still gets its first request answered, then closed', async () => {
    const { open, address, close } = await listenAdopting(async () => ({ status: 202, json: { id: 1 } }), { firstByteMs: 1_000, keepAliveMs: 1_000 });
    try {
      const c = await RawConnection.open(address);
      await new Promise((r) => setTimeout(r, 20));
      open.close(2_000);
      c.send(rawPost('/v1/ingest/app', '{}\n'));
      const r = await c.next();
      assert.equal(r?.status, 202);
      assert.equal(r?.headers.connection, 'close');
      assert.ok(await c.waitClosed(500));
    } finally {
      close();
    }
  });
});

describe('fast-path errors', () => {
  it('a route that throws is logged and its connection cut, the process and the server live on', async () => {
    const errors: unknown[] = [];
    const { address, close } = await listenAdopting(
      () => {
        throw new Error('route check broke');
      },
      { firstByteMs: 1_000, keepAliveMs: 1_000 },
      (e) => errors.push(e),
    );
    try {
      for (let i = 0; i < 2; i++) {
        const c = await RawConnection.open(address);
        c.send(rawPost('/v1/ingest/app', '{}\n'));
        assert.equal(await c.next(), null, 'closed without an answer');
      }
      assert.equal(errors.length, 2);
      assert.match(String(errors[0]), /route check broke/);
    } finally {
      close();
    }
  });
});
