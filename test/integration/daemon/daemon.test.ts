/** The real daemon process: endpoints, auth, lock, listen safety, graceful stop. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { CLI, startDaemon } from '../../support/daemon.ts';

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; type: string }> {
  const r = await request(url, { headers });
  return { status: r.statusCode, text: await r.body.text(), type: String(r.headers['content-type'] ?? '') };
}

test('serves /healthz, /readyz, /metrics, /v1/status and the status page; SIGTERM exits 0 within 5 s', async (t) => {
  const d = await startDaemon();
  t.after(() => d.cleanup());
  const h = await get(`${d.baseUrl}/healthz`);
  assert.equal(h.status, 200);
  assert.deepEqual(JSON.parse(h.text), { status: 'ok', reasons: [] });
  const r = await get(`${d.baseUrl}/readyz`);
  assert.equal(r.status, 200);
  assert.equal(JSON.parse(r.text).status, 'ready');
  const m = await get(`${d.baseUrl}/metrics`);
  assert.equal(m.status, 200);
  assert.match(m.type, /text\/plain/);
  assert.match(m.text, /^linkward_build_info\{version="[^"]+",node_version="24\.[^"]+",node="[^"]+"\} 1$/m);
  assert.match(m.text, /^process_resident_memory_bytes \d+/m);
  assert.match(m.text, /^linkward_ready 1$/m);
  // the loop-delay sampler runs on the real clock: about one 20 ms period per sample on an idle loop
  const loopP99 = Number(/^nodejs_eventloop_delay_p99_seconds (\S+)$/m.exec(m.text)?.[1]);
  assert.ok(loopP99 >= 0.015 && loopP99 < 5, `event-loop delay p99 ${loopP99} s`);
  const s = await get(`${d.baseUrl}/v1/status`);
  assert.equal(s.status, 200);
  const doc = JSON.parse(s.text) as Record<string, unknown>;
  assert.equal(typeof doc.version, 'string');
  assert.equal(typeof doc.node, 'string');
  assert.equal(typeof doc.uptimeSeconds, 'number');
  const link = doc.link as { node: string; uplinks: Record<string, { health: string }> };
  assert.equal(link.node, 'unknown', 'never healthy before a measurement');
  assert.deepEqual(
    Object.values(link.uplinks).map((u) => u.health),
    ['unknown'],
  );
  assert.equal((doc.components as Record<string, { state: string }>).daemon?.state, 'ok');
  const page = await get(`${d.baseUrl}/`);
  assert.equal(page.status, 200);
  assert.match(page.type, /text\/html/);
  assert.match(page.text, /linkward on /);
  const missing = await get(`${d.baseUrl}/nope`);
  assert.equal(missing.status, 404);
  assert.equal(JSON.parse(missing.text).error.code, 'LW_HTTP_NOT_FOUND');
  const t0 = performance.now();
  const code = await d.stop('SIGTERM');
  assert.equal(code, 0);
  assert.ok(performance.now() - t0 < 5_000, 'stopped within 5 s');
  assert.ok(d.logs.some((l) => l.msg === 'stopped'));
});

test('SIGINT also stops gracefully with exit 0', async (t) => {
  const d = await startDaemon();
  t.after(() => d.cleanup());
  assert.equal(await d.stop('SIGINT'), 0);
});

test('with a token, /v1/* and the page need Authorization: Bearer; health endpoints stay open', async (t) => {
  const token = 'test-token-0123456789abcdef';
  const d = await startDaemon({ server: { token } });
  t.after(() => d.cleanup());
  assert.equal((await get(`${d.baseUrl}/v1/status`)).status, 401);
  assert.equal((await get(`${d.baseUrl}/v1/status`, { authorization: 'Bearer wrong-token-0123456789ab' })).status, 401);
  assert.equal((await get(`${d.baseUrl}/v1/status`, { authorization: `Bearer ${token}` })).status, 200);
  assert.equal((await get(`${d.baseUrl}/`)).status, 401);
  assert.equal((await get(`${d.baseUrl}/healthz`)).status, 200);
  assert.equal((await get(`${d.baseUrl}/readyz`)).status, 200);
  assert.equal((await get(`${d.baseUrl}/metrics`)).status, 200);
});

test('a non-loopback listen address without a token is refused at start with a clear error', async (t) => {
  const d = await startDaemon({ server: { listen: '0.0.0.0:0' } }, { waitReady: false });
  t.after(() => d.cleanup());
  const code = await d.exited;
  assert.notEqual(code, 0);
  const fatal = d.logs.find((l) => l.level === 60);
  assert.equal(fatal?.code, 'LW_LISTEN_INSECURE');
  assert.match(String(fatal?.msg), /set server\.token/);
});

test('a second daemon on the same state dir is refused (LW_STATE_LOCKED), the first keeps serving', async (t) => {
  const first = await startDaemon();
  t.after(() => first.cleanup());
  const second = await startDaemon({}, { stateDir: first.stateDir, waitReady: false });
  t.after(() => second.cleanup());
  assert.equal(await second.exited, 1);
  const fatal = second.logs.find((l) => l.level === 60);
  assert.equal(fatal?.code, 'LW_STATE_LOCKED');
  assert.match(String(fatal?.msg), new RegExp(`pid ${first.child.pid}`));
  assert.equal((await get(`${first.baseUrl}/healthz`)).status, 200);
});

test('the lock is released when the holder is killed with SIGKILL (no stale lock)', async (t) => {
  const first = await startDaemon();
  t.after(() => first.cleanup());
  assert.equal(await first.stop('SIGKILL'), 'SIGKILL');
  const again = await startDaemon({}, { stateDir: first.stateDir });
  t.after(() => again.cleanup());
  assert.equal((await get(`${again.baseUrl}/healthz`)).status, 200);
});

test('an unwritable state dir is refused with LW_STATE_DIR_UNWRITABLE', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'lw-ro-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const blocker = join(base, 'file');
  writeFileSync(blocker, 'not a directory');
  const d = await startDaemon({ state: { dir: join(blocker, 'state') } }, { waitReady: false, stateDir: base });
  t.after(() => d.cleanup());
  assert.equal(await d.exited, 1);
  assert.equal(d.logs.find((l) => l.level === 60)?.code, 'LW_STATE_DIR_UNWRITABLE');
});

test('an invalid config exits 2 and prints every problem with its path', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lw-badcfg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const p = join(dir, 'c.yaml');
  writeFileSync(p, 'server:\n  listen: bad\nlog:\n  level: loud\n');
  const r = spawnSync(process.execPath, [CLI, '--config', p, 'run'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 2);
  // one fatal JSON record on the log stream (stdout), with the code and every problem
  const fatal = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { level: number; code: string; msg: string };
  assert.equal(fatal.level, 60);
  assert.equal(fatal.code, 'LW_CONFIG_INVALID');
  assert.match(fatal.msg, /server\.listen: must be HOST:PORT/);
  assert.match(fatal.msg, /log\.level: /);
});
