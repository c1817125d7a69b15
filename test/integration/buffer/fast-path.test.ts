/** The HTTP fast path on real sockets: plain ingest POSTs served by it, every other shape handed to node:http intact. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { startServer } from '../../../agent/http/server.ts';
import { createBufferComponent } from '../../../buffer/component.ts';
import { realBufferDeps } from '../../../buffer/adapters.ts';
import { bufferContext } from '../../support/buffer-context.ts';
import { RawConnection, rawPost } from '../../support/raw-http.ts';
import { startRouteServer } from '../../support/route-server.ts';

const TOKEN = 'fast-path-token-0123456789';
const AUTH = `Authorization: Bearer ${TOKEN}\r\n`;
/** Nothing listens here: records stay in the buffer, where the test reads them back. */
const DEAD_UPSTREAM = 'http://127.0.0.1:9/';

type Served = Awaited<ReturnType<typeof startServer>>;

async function serve(fastPath: boolean) {
  const t = bufferContext({ sinks: [{ name: 'app', url: DEAD_UPSTREAM, protocol: 'ndjson' }] });
  const comp = createBufferComponent(t.ctx, realBufferDeps(t.ctx));
  await comp.start();
  const srv = await startRouteServer({ log: t.ctx.log, metrics: t.ctx.metrics, token: TOKEN, routes: () => comp.routes?.() ?? [], fastPath });
  const bodies = (): string[] => (comp.service.store?.listRecords(null, 1_000) ?? []).map((r) => Buffer.from(r.body).toString()).sort();
  const stop = async (): Promise<void> => {
    await srv.close();
    await comp.stop();
    t.cleanup();
  };
  return { srv, bodies, stop };
}

describe('HTTP fast path (agent/http/fast-conn.ts)', () => {
  let s: Awaited<ReturnType<typeof serve>>;
  let fast: NonNullable<Served['fast']>;
  before(async () => {
    s = await serve(true);
    assert.ok(s.srv.fast, 'the fast path is installed');
    fast = s.srv.fast;
  });
  after(() => s.stop());

  it('serves plain POSTs on a keep-alive connection with the answer node:http gives; requests pipelined behind one go to node:http, in order', async () => {
    const c = await RawConnection.open(s.srv.address);
    const served0 = fast.served;
    const handed0 = fast.handedOff;
    c.send(rawPost('/v1/ingest/app', '{"n":1}\n', AUTH));
    const r1 = await c.next();
    assert.equal(r1?.status, 202);
    assert.match(r1?.body ?? '', /^\{"id":\d+\}$/);
    assert.equal(r1?.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(r1?.headers.connection, 'keep-alive');
    assert.ok(!Number.isNaN(Date.parse(r1?.headers.date ?? '')), 'a Date header');
    c.send(rawPost('/v1/ingest/app', '{"n":2}\n', AUTH) + rawPost('/v1/ingest/app', '{"n":3}\n', `${AUTH}X-Linkward-Priority: high\r\n`));
    const [r2, r3] = [await c.next(), await c.next()];
    assert.deepEqual([r2?.status, r3?.status], [202, 202]);
    assert.ok(Number(JSON.parse(r2!.body).id) < Number(JSON.parse(r3!.body).id), 'answered in request order');
    assert.equal(fast.served - served0, 2, 'the lone request and the first of the pipelined two served by the fast path');
    assert.equal(fast.handedOff - handed0, 1, 'the second pipelined request went to node:http');
    c.close();
    for (const n of [1, 2, 3]) assert.ok(s.bodies().includes(`{"n":${n}}\n`), `record ${n} stored byte for byte`);
  });

  it('hands every other shape to node:http with its bytes intact, and node:http keeps the connection', async () => {
    const chunked = `POST /v1/ingest/app HTTP/1.1\r\nHost: h\r\n${AUTH}Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n{"c":1}\n\r\n0\r\n\r\n`;
    const cases: [string, string, number, string | null][] = [
      ['chunked body', chunked, 202, '{"c":1}\n'],
      ['Connection: close', rawPost('/v1/ingest/app', '{"c":2}\n', `${AUTH}Connection: close\r\n`), 202, '{"c":2}\n'],
      ['no token', rawPost('/v1/ingest/app', '{"c":3}\n'), 401, null],
      ['unknown sink', rawPost('/v1/ingest/nope', '{"c":4}\n', AUTH), 404, null],
      ['not ndjson', rawPost('/v1/ingest/app', '{"c":', AUTH), 400, null],
      ['GET', 'GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n', 200, null],
      ['HTTP/1.0', rawPost('/v1/ingest/app', '{"c":5}\n', AUTH).replace('HTTP/1.1', 'HTTP/1.0'), 202, '{"c":5}\n'],
    ];
    for (const [name, bytes, status, stored] of cases) {
      const handed0 = fast.handedOff;
      const c = await RawConnection.open(s.srv.address);
      c.send(bytes);
      const r = await c.next();
      assert.equal(r?.status, status, `${name}: ${r?.body}`);
      if (stored !== null) assert.ok(s.bodies().includes(stored), `${name}: stored`);
      // Only a request node:http refuses without stopping (400 on a bad payload is the buffer's own, not a parse error).
      if (status !== 400 && !bytes.includes('Connection: close') && !bytes.includes('HTTP/1.0')) {
        c.send(rawPost('/v1/ingest/app', `{"after":"${name}"}\n`, AUTH));
        assert.equal((await c.next())?.status, 202, `${name}: the next request on the same connection`);
      }
      assert.equal(fast.handedOff - handed0, name === 'not ndjson' ? 0 : 1, `${name}: handed off once`);
      c.close();
    }
  });

  it('hands off a request whose body comes in a later read, and one declined after one it served', async () => {
    const c = await RawConnection.open(s.srv.address);
    const whole = rawPost('/v1/ingest/app', '{"split":1}\n', AUTH);
    c.send(whole.slice(0, whole.length - 5));
    await new Promise((r) => setTimeout(r, 50));
    c.send(whole.slice(whole.length - 5));
    assert.equal((await c.next())?.status, 202);
    c.close();
    const d = await RawConnection.open(s.srv.address);
    const served0 = fast.served;
    d.send(rawPost('/v1/ingest/app', '{"pipe":1}\n', AUTH) + 'GET /readyz HTTP/1.1\r\nHost: h\r\n\r\n' + rawPost('/v1/ingest/app', '{"pipe":2}\n', AUTH));
    const answers = [await d.next(), await d.next(), await d.next()].map((r) => r?.status);
    assert.deepEqual(answers, [202, 200, 202], 'pipelined: served, handed off, then node:http serves the rest in order');
    assert.equal(fast.served - served0, 1);
    d.close();
    for (const b of ['{"split":1}\n', '{"pipe":1}\n', '{"pipe":2}\n']) assert.ok(s.bodies().includes(b), b);
  });

  it('requests that arrive while one is being committed go to node:http, which commits them together', async () => {
    const c = await RawConnection.open(s.srv.address);
    const served0 = fast.served;
    const handed0 = fast.handedOff;
    c.send(rawPost('/v1/ingest/app', '{"w":0}\n', AUTH));
    for (let i = 1; i <= 3; i++) c.send(rawPost('/v1/ingest/app', `{"w":${i}}\n`, AUTH)); // separate writes: separate reads
    const statuses = [];
    for (let i = 0; i <= 3; i++) statuses.push((await c.next())?.status);
    assert.deepEqual(statuses, [202, 202, 202, 202]);
    assert.equal(fast.served - served0, 1, 'the first served by the fast path');
    assert.equal(fast.handedOff - handed0, 1, 'the rest, sent before its answer, handed to node:http');
    c.close();
  });

  it('a client that half-closes after its request still gets the answer', async () => {
    const c = await RawConnection.open(s.srv.address);
    c.send(rawPost('/v1/ingest/app', '{"half":1}\n', AUTH));
    c.socket.end();
    assert.equal((await c.next())?.status, 202);
    assert.ok(await c.waitClosed(2_000), 'then the server closes');
  });
});

describe('HTTP fast path off (server.fastPath: false)', () => {
  it('answers every request of a varied set exactly as the fast path does (status, error code)', async () => {
    const on = await serve(true);
    const off = await serve(false);
    const variants = [
      rawPost('/v1/ingest/app', '{"v":1}\n', AUTH),
      rawPost('/v1/ingest/app', '{"v":2}\n{"v":3}\n', `${AUTH}X-Linkward-Priority: low\r\n`),
      rawPost('/v1/ingest/app', '{"v":4}\n', `${AUTH}X-Linkward-Priority: nonsense\r\n`),
      rawPost('/v1/ingest/app', '', AUTH),
      rawPost('/v1/ingest/app', 'not json\n', AUTH),
      rawPost('/v1/ingest/app', '{"v":5}\n', AUTH).replace('application/x-ndjson', 'text/html'),
      rawPost('/v1/ingest/app', '{"v":6}\n', AUTH.replace('Bearer', 'bearer')),
      rawPost('/v1/ingest/app', '{"v":7}\n', AUTH.toLowerCase().replace(TOKEN.toLowerCase(), TOKEN)),
      rawPost('/v1/ingest/app', `{"v":"${'x'.repeat(70_000)}"}\n`, AUTH),
      rawPost('/v1/ingest/app/', '{"v":8}\n', AUTH),
    ];
    const answer = async (srv: Served, bytes: string) => {
      const c = await RawConnection.open(srv.address);
      c.send(bytes);
      const r = await c.next();
      c.close();
      const json = JSON.parse(r?.body ?? 'null') as { id?: number; error?: { code: string } };
      return `${r?.status} ${json.error?.code ?? (typeof json.id === 'number' ? 'id' : '?')}`;
    };
    try {
      for (const v of variants) assert.equal(await answer(on.srv, v), await answer(off.srv, v), v.slice(0, 160));
      assert.deepEqual(on.bodies(), off.bodies(), 'the same records stored');
      assert.ok(on.srv.fast!.served >= 5, `the fast path served most of them (${on.srv.fast!.served})`);
    } finally {
      await on.stop();
      await off.stop();
    }
  });

  it('every request goes through node:http and is answered the same way', async () => {
    const s = await serve(false);
    try {
      assert.equal(s.srv.fast, null);
      const c = await RawConnection.open(s.srv.address);
      c.send(rawPost('/v1/ingest/app', '{"off":1}\n', AUTH) + rawPost('/v1/ingest/app', '{"off":2}\n', AUTH));
      assert.deepEqual([(await c.next())?.status, (await c.next())?.status], [202, 202]);
      c.close();
      assert.deepEqual(s.bodies(), ['{"off":1}\n', '{"off":2}\n']);
    } finally {
      await s.stop();
    }
  });
});
