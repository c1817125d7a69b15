/** server.pageListen: the status page, read-only and without a token, on a second listener; nothing else is reachable there. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startDaemon } from '../../support/daemon.ts';

const TOKEN = 'page-listen-token-0123456789abcd';

test('pageListen serves GET / without a token and answers 404/405 for the API, metrics and any write', async (t) => {
  // 127.0.0.2 stands for the site LAN address (tests stay on loopback); port 0 picks a free one
  const d = await startDaemon({ server: { token: TOKEN, pageListen: '127.0.0.2:0' }, probes: { enabled: false }, kubernetes: { enabled: false } });
  t.after(() => d.cleanup());
  const rec = d.logs.find((l) => typeof l.pageListen === 'string');
  assert.ok(rec, `the page listener logged its address (${JSON.stringify(d.logs.map((l) => l.msg))})`);
  const page = `http://${String(rec.pageListen)}`;

  const r = await request(`${page}/`);
  const html = await r.body.text();
  assert.equal(r.statusCode, 200);
  assert.match(String(r.headers['content-type']), /^text\/html/);
  assert.match(html, /<html/i);
  assert.match(String(r.headers['content-security-policy']), /default-src 'none'/);
  assert.equal(r.headers['x-frame-options'], 'DENY');
  assert.ok(!html.includes(TOKEN), 'the token never appears in the page');

  // the same page the token holder gets from the main server
  const main = await request(`${d.baseUrl}/`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(main.statusCode, 200);
  await main.body.dump();

  for (const path of ['/v1/status', '/metrics', '/healthz', '/v1/route', '/v1/buffer/stats', '/v1/probes']) {
    const x = await request(`${page}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    await x.body.dump();
    assert.equal(x.statusCode, 404, `${path} is not served on the page listener, even with the token`);
  }
  for (const method of ['POST', 'PUT', 'DELETE'] as const) {
    const x = await request(`${page}/`, { method, body: '{}' });
    await x.body.dump();
    assert.equal(x.statusCode, 405, `${method} / is refused`);
  }
  const head = await request(`${page}/`, { method: 'HEAD' });
  assert.equal(head.statusCode, 200);
  await head.body.dump();

  // the main server keeps its rules: the API still wants the token
  const anon = await request(`${d.baseUrl}/v1/status`);
  await anon.body.dump();
  assert.equal(anon.statusCode, 401);
  assert.equal(await d.stop(), 0);
});

test('config: pageListen equal to listen is refused with its path', async () => {
  const { AgentConfigSchema } = await import('../../../agent/config/schema.ts');
  const r = AgentConfigSchema.safeParse({ server: { listen: '127.0.0.1:9780', pageListen: '127.0.0.1:9780' } });
  assert.equal(r.success, false);
  assert.deepEqual(
    r.error?.issues.map((i) => i.path.join('.')),
    ['server.pageListen'],
  );
});
