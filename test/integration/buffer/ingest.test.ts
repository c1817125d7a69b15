/** End to end over loopback: HTTP + unix-socket ingest status codes, durable 202, forwarding to a real receiver. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { request } from 'undici';
import { createBufferComponent, type BufferComponent } from '../../../buffer/component.ts';
import { realBufferDeps } from '../../../buffer/adapters.ts';
import { bufferContext, type BufferTestContext } from '../../support/buffer-context.ts';
import { serveRoutes, type TestServer } from '../../support/buffer-http.ts';
import { startReceiver, type Receiver } from '../../support/buffer-receiver.ts';

const TOKEN = 'buffer-test-token-0123456789';

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const writerThread of [false, true])
  describe(`buffer ingest over HTTP and unix socket (writerThread=${writerThread})`, () => {
    let rx: Receiver;
    let t: BufferTestContext;
    let comp: BufferComponent;
    let srv: TestServer;
    let sock: string;

    before(async () => {
      rx = await startReceiver();
      t = bufferContext({
        sinks: [
          { name: 'logs', url: rx.url, protocol: 'ndjson', compression: 'none' },
          { name: 'otel', url: rx.url, protocol: 'otlp-http' },
        ],
        buffer: { maxRecordBytes: 2048, flush: { pollMs: 50 }, commit: { writerThread } },
      });
      sock = join(t.dir, 'ingest.sock');
      t.ctx.config.buffer.socket = sock;
      comp = createBufferComponent(t.ctx, realBufferDeps(t.ctx));
      await comp.start();
      srv = await serveRoutes(comp.routes!(), TOKEN);
    });
    after(async () => {
      await srv.close();
      await comp.stop();
      await rx.close();
      t.cleanup();
    });

    const post = (path: string, body: string | Buffer, headers: Record<string, string> = {}, token: string | null = TOKEN) =>
      request(srv.base + path, {
        method: 'POST',
        body,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/x-ndjson', ...headers },
      });

    it('401 without the token, 404 for an unknown sink, 413 over the size limit, 400 when empty', async () => {
      const r401 = await post('/v1/ingest/logs', '{"a":1}', {}, null);
      assert.equal(r401.statusCode, 401);
      await r401.body.dump();
      const r404 = await post('/v1/ingest/nope', '{"a":1}');
      assert.equal(r404.statusCode, 404);
      assert.equal(((await r404.body.json()) as { error: { code: string } }).error.code, 'LW_BUFFER_UNKNOWN_SINK');
      const r413 = await post('/v1/ingest/logs', Buffer.alloc(4096, 0x61));
      assert.equal(r413.statusCode, 413);
      await r413.body.dump();
      const r400 = await post('/v1/ingest/logs', '');
      assert.equal(r400.statusCode, 400);
      await r400.body.dump();
    });

    it('400 with the reason, nothing stored, for what the sink protocol cannot deliver', async () => {
      const before = comp.service.store!.usage().records + rx.received.length;
      const cases: [string, string, Record<string, string>, RegExp][] = [
        ['/v1/ingest/logs', '{"ok":1}\n{broken', {}, /line 2 is not valid JSON/],
        ['/v1/ingest/logs', '{"ok":1}', { 'content-type': 'application/x-protobuf' }, /Content-Type "application\/x-protobuf" is not accepted/],
        ['/v1/ingest/otel', '{not json', { 'content-type': 'application/json' }, /OTLP JSON body is not valid JSON/],
      ];
      for (const [path, body, headers, why] of cases) {
        const r = await post(path, body, headers);
        assert.equal(r.statusCode, 400);
        const e = ((await r.body.json()) as { error: { code: string; message: string } }).error;
        assert.equal(e.code, 'LW_BUFFER_INVALID_PAYLOAD');
        assert.match(e.message, why);
      }
      assert.equal(comp.service.store!.usage().records + rx.received.length, before, 'nothing stored or sent');
    });

    it('202 after commit; line records are merged and forwarded with an Idempotency-Key', async () => {
      const before = rx.accepted().length;
      const codes = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const r = await post('/v1/ingest/logs', `{"n":${i}}`);
          const body = (await r.body.json()) as { id: number };
          assert.equal(typeof body.id, 'number');
          return r.statusCode;
        }),
      );
      assert.deepEqual(new Set(codes), new Set([202]));
      await until(
        () =>
          rx
            .accepted()
            .slice(before)
            .reduce((n, r) => n + r.body.toString().trim().split('\n').length, 0) >= 20,
        10_000,
        '20 records upstream',
      );
      const lines = rx
        .accepted()
        .slice(before)
        .flatMap((r) => r.body.toString().trim().split('\n'));
      assert.deepEqual(
        lines.map((l) => (JSON.parse(l) as { n: number }).n).sort((a, b) => a - b),
        Array.from({ length: 20 }, (_, i) => i),
      );
      for (const r of rx.accepted().slice(before)) {
        assert.match(r.key ?? '', /^[0-9a-f-]{36}$/);
        assert.equal(r.contentType, 'application/x-ndjson');
      }
    });

    it('opaque pre-encoded bodies travel byte-identical with their Content-Type and Content-Encoding', async () => {
      const payload = gzipSync(Buffer.from('opaque-otlp-body'));
      const r = await post('/v1/ingest/otel', payload, { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
      assert.equal(r.statusCode, 202);
      await r.body.dump();
      await until(() => rx.accepted().some((x) => x.contentEncoding === 'gzip' && x.raw.equals(payload)), 10_000, 'opaque body upstream');
      const got = rx.accepted().find((x) => x.raw.equals(payload));
      assert.equal(got?.contentType, 'application/x-protobuf');
      assert.equal(got?.body.toString(), 'opaque-otlp-body');
    });

    it('the unix socket serves the same ingest route', async () => {
      const r = await request('http://localhost/v1/ingest/logs', {
        method: 'POST',
        body: '{"via":"socket"}',
        headers: { 'content-type': 'application/x-ndjson' },
        dispatcher: new (await import('undici')).Agent({ connect: { socketPath: sock } }),
      });
      assert.equal(r.statusCode, 202);
      await r.body.dump();
      await until(() => rx.accepted().some((x) => x.body.toString().includes('"via":"socket"')), 10_000, 'socket record upstream');
    });

    it('status and stats report the sinks', async () => {
      const st = comp.status();
      assert.equal(st.state, 'ok');
      const r = await request(srv.base + '/v1/buffer/stats', { headers: { authorization: `Bearer ${TOKEN}` } });
      const stats = (await r.body.json()) as { available: boolean; sinks: { sink: string; sentBatches: number }[] };
      assert.equal(stats.available, true);
      assert.ok(stats.sinks.find((s) => s.sink === 'logs')!.sentBatches >= 1);
      const metrics = await t.ctx.metrics.metrics();
      assert.match(metrics, /linkward_buffer_sent_records_total\{sink="logs"\} \d+/);
      assert.match(metrics, /linkward_buffer_commit_duration_seconds_count \d+/);
    });
  });

describe('buffer full under reject-new', () => {
  it('answers 507 once maxBytes is reached and counts the refusals', async () => {
    const rx = await startReceiver(() => 503);
    const t = bufferContext({
      sinks: [{ name: 's', url: rx.url, protocol: 'raw' }],
      buffer: { maxBytes: 65_536, policy: 'reject-new', retry: { baseMs: 60_000, capMs: 60_000 } },
    });
    const comp = createBufferComponent(t.ctx, realBufferDeps(t.ctx));
    await comp.start();
    const srv = await serveRoutes(comp.routes!());
    try {
      const codes: number[] = [];
      for (let i = 0; i < 40; i++) {
        const r = await request(srv.base + '/v1/ingest/s', { method: 'POST', body: Buffer.alloc(2048, 1) });
        codes.push(r.statusCode);
        await r.body.dump();
      }
      assert.equal(codes.filter((c) => c === 202).length, 32);
      assert.equal(codes.filter((c) => c === 507).length, 8);
      assert.match(await t.ctx.metrics.metrics(), /linkward_buffer_dropped_records_total\{sink="s",reason="rejected_full"\} 8/);
    } finally {
      await srv.close();
      await comp.stop();
      await rx.close();
      t.cleanup();
    }
  });
});
