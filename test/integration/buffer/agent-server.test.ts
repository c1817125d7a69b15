/** The buffer's routes behind the agent's real HTTP server (agent/http/server.ts): token, status codes, /readyz, /metrics. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startRouteServer } from '../../support/route-server.ts';
import { createBufferComponent } from '../../../buffer/component.ts';
import { realBufferDeps } from '../../../buffer/adapters.ts';
import { bufferContext } from '../../support/buffer-context.ts';
import { startReceiver } from '../../support/buffer-receiver.ts';

const TOKEN = 'agent-server-token-0123456789';

describe('ingest through agent/http/server.ts', () => {
  it('401 without token, 202 with it, 404 unknown sink, 405 wrong method; readiness and metrics exposed', async () => {
    const rx = await startReceiver();
    const t = bufferContext({ sinks: [{ name: 'app', url: rx.url, protocol: 'ndjson' }], buffer: { flush: { pollMs: 50 } } });
    const comp = createBufferComponent(t.ctx, realBufferDeps(t.ctx));
    await comp.start();
    const srv = await startRouteServer({
      log: t.ctx.log,
      metrics: t.ctx.metrics,
      token: TOKEN,
      notReadyReasons: () => comp.notReadyReasons?.() ?? [],
      status: () => ({ buffer: comp.status() }),
      routes: () => comp.routes?.() ?? [],
    });
    const base = `http://${srv.address}`;
    const post = async (path: string, auth: boolean): Promise<number> => {
      const r = await request(base + path, {
        method: 'POST',
        body: '{"x":1}',
        headers: { 'content-type': 'application/x-ndjson', ...(auth ? { authorization: `Bearer ${TOKEN}` } : {}) },
      });
      await r.body.dump();
      return r.statusCode;
    };
    try {
      assert.equal(await post('/v1/ingest/app', false), 401);
      assert.equal(await post('/v1/ingest/app', true), 202);
      assert.equal(await post('/v1/ingest/other', true), 404);
      const g = await request(base + '/v1/ingest/app', { headers: { authorization: `Bearer ${TOKEN}` } });
      await g.body.dump();
      assert.equal(g.statusCode, 405);
      const ready = await request(base + '/readyz');
      assert.equal(ready.statusCode, 200);
      await ready.body.dump();
      const end = Date.now() + 10_000;
      while (rx.accepted().length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      assert.equal(rx.accepted().length, 1);
      const m = await (await request(base + '/metrics')).body.text();
      assert.match(m, /linkward_buffer_ingested_records_total\{sink="app"\} 1/);
      assert.match(m, /linkward_buffer_sends_total\{sink="app",status="204"\} 1/);
    } finally {
      await srv.close();
      await comp.stop();
      await rx.close();
      t.cleanup();
    }
  });
});
