/** buffer.maxInflightBytes over loopback: requests beyond it wait unread, vanished clients give their room back, chunked bodies grow. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { createBufferComponent, type BufferComponent } from '../../../buffer/component.ts';
import { realBufferDeps } from '../../../buffer/adapters.ts';
import { bufferContext, type BufferTestContext } from '../../support/buffer-context.ts';
import { serveRoutes, type TestServer } from '../../support/buffer-http.ts';

/** Smallest budget the config allows: a few 10–60 KiB bodies fill it. */
const BUDGET = 64 * 1024;

async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A raw HTTP/1.1 POST whose body is sent when the test says so; `answer` resolves with the status line. */
function rawPost(base: string, path: string, headers: Record<string, string>, head: Buffer): { sock: Socket; answer: Promise<string>; send(b: Buffer): void } {
  const u = new URL(base);
  const sock = connect(Number(u.port), u.hostname);
  let got = '';
  const answer = new Promise<string>((resolve) => {
    sock.on('data', (c) => {
      got += c.toString();
      if (got.includes('\r\n')) resolve(got.split('\r\n')[0]!);
    });
    sock.on('close', () => resolve(got.split('\r\n')[0] ?? ''));
    sock.on('error', () => undefined);
  });
  const lines = [
    `POST ${path} HTTP/1.1`,
    `host: ${u.host}`,
    'content-type: application/octet-stream',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    '',
    '',
  ];
  sock.write(Buffer.concat([Buffer.from(lines.join('\r\n')), head]));
  return { sock, answer, send: (b) => sock.write(b) };
}

describe('ingest backpressure (buffer.maxInflightBytes)', () => {
  let t: BufferTestContext;
  let comp: BufferComponent;
  let srv: TestServer;

  before(async () => {
    t = bufferContext({
      sinks: [{ name: 's', url: 'http://127.0.0.1:9/none', protocol: 'raw' }],
      buffer: { maxInflightBytes: BUDGET, maxRecordBytes: 512 * 1024, retry: { baseMs: 600_000, capMs: 600_000 } },
    });
    comp = createBufferComponent(t.ctx, realBufferDeps(t.ctx));
    await comp.start();
    srv = await serveRoutes(comp.routes!());
  });
  after(async () => {
    await srv.close();
    await comp.stop();
    t.cleanup();
  });

  const budget = () => comp.service.inflight;
  const gauge = async (name: string): Promise<number> => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(await t.ctx.metrics.metrics())?.[1]);

  it('a request that does not fit waits unread until room is given back, then both are stored', async () => {
    const stored = comp.service.store!.usage().records;
    // Holds 60 KiB of the 64 KiB: its Content-Length is reserved before the body is read, and it sends only part.
    const slow = rawPost(srv.base, '/v1/ingest/s', { 'content-length': String(60 * 1024) }, Buffer.alloc(1024, 1));
    await until(() => budget().used === 60 * 1024, 5_000, 'the slow request to hold its reservation');
    const waiting = request(srv.base + '/v1/ingest/s', { method: 'POST', body: Buffer.alloc(10 * 1024, 2) });
    await until(() => budget().waiting === 1, 5_000, 'the second request to wait');
    assert.equal(await gauge('linkward_buffer_ingest_waiting_requests'), 1);
    assert.equal(await gauge('linkward_buffer_ingest_inflight_bytes'), 60 * 1024);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(comp.service.store!.usage().records, stored, 'nothing of the waiting one stored yet');
    slow.send(Buffer.alloc(59 * 1024, 1));
    assert.match(await slow.answer, / 202 /);
    const r = await waiting;
    assert.equal(r.statusCode, 202);
    await r.body.dump();
    slow.sock.destroy();
    await until(() => budget().used === 0 && budget().waiting === 0, 5_000, 'every byte given back');
    assert.equal(comp.service.store!.usage().records, stored + 2);
  });

  it('clients that vanish while waiting or mid-body give their room back', async () => {
    const stored = comp.service.store!.usage().records;
    const holder = rawPost(srv.base, '/v1/ingest/s', { 'content-length': String(50 * 1024) }, Buffer.alloc(10, 1));
    await until(() => budget().used === 50 * 1024, 5_000, 'the holder to reserve');
    const waiter = rawPost(srv.base, '/v1/ingest/s', { 'content-length': String(30 * 1024) }, Buffer.alloc(10, 1));
    await until(() => budget().waiting === 1, 5_000, 'the waiter to queue');
    waiter.sock.destroy(); // gone while waiting: its turn comes, it finds the client gone
    holder.sock.destroy(); // gone mid-body
    await until(() => budget().used === 0 && budget().waiting === 0, 5_000, 'the budget to empty');
    const r = await request(srv.base + '/v1/ingest/s', { method: 'POST', body: Buffer.alloc(40 * 1024, 3) });
    assert.equal(r.statusCode, 202);
    await r.body.dump();
    assert.equal(comp.service.store!.usage().records, stored + 1, 'only the complete record was stored');
  });

  it('a chunked body larger than the whole budget grows as it arrives and is stored byte for byte', async () => {
    const payload = Buffer.alloc(300 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff;
    // A stream body has no Content-Length: undici sends it chunked.
    const pieces = Array.from({ length: Math.ceil(payload.length / (16 * 1024)) }, (_, i) => payload.subarray(i * 16 * 1024, (i + 1) * 16 * 1024));
    const r = await request(srv.base + '/v1/ingest/s', { method: 'POST', body: Readable.from(pieces) });
    assert.equal(r.statusCode, 202);
    const { id } = (await r.body.json()) as { id: number };
    const rec = comp.service.store!.listRecords('s', 1_000).find((x) => x.id === id);
    assert.ok(rec);
    const got = Buffer.from(rec.body);
    let d = 0;
    while (d < got.length && got[d] === payload[d]) d++;
    assert.ok(got.equals(payload), `stored ${got.length} bytes, first difference at ${d}`);
    await until(() => budget().used === 0, 5_000, 'the chunked lease to end');
  });

  it('a chunked body that goes over buffer.maxRecordBytes is refused (413) and holds nothing afterwards', async () => {
    const pieces = Array.from({ length: 40 }, () => Buffer.alloc(16 * 1024, 9)); // 640 KiB > 512 KiB
    const r = await request(srv.base + '/v1/ingest/s', { method: 'POST', body: Readable.from(pieces) });
    assert.equal(r.statusCode, 413);
    assert.equal(((await r.body.json()) as { error: { code: string } }).error.code, 'LW_BUFFER_TOO_LARGE');
    await until(() => budget().used === 0 && budget().waiting === 0, 5_000, 'the refused lease to end');
  });
});
