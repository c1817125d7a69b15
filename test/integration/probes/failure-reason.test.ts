/** Integration: a failed throughput test is labelled from the error's code and status (never its text), against real servers on loopback. */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { systemClock } from '../../../agent/base/clock.ts';
import { runThroughput, type Direction } from '../../../probes/throughput.ts';

/** Answers every request with the status in the path's first segment (`/503/...`), or 200 "ok" for `/ok/...`. */
let srv: Server;
let port = 0;

before(async () => {
  srv = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const seg = (req.url ?? '/').split('/')[1] ?? '';
      const status = seg === 'ok' ? 200 : Number(seg);
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status === 200 ? 'ok' : `status ${status}`);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  port = (srv.address() as { port: number }).port;
});
after(() => new Promise<void>((r) => srv.close(() => r())));

/** A loopback port nobody listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = createTcpServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

const probe = (url: string, direction: Direction) =>
  runThroughput({
    url,
    preset: 'linkward',
    direction,
    streams: 2,
    maxBytes: 1_000_000,
    maxDurationMs: 3_000,
    minMeasureMs: 300,
    stableTolerance: 0.1,
    clock: systemClock,
    loadedLatency: false,
  });

test('connection refused → refused', async () => {
  const r = await probe(`http://127.0.0.1:${await closedPort()}/`, 'down');
  assert.equal(r.stopReason, 'error');
  assert.equal(r.failure, 'refused', r.errors.join('; '));
});

for (const [status, label] of [
  [503, 'http_5xx'],
  [404, 'http_4xx'],
] as const) {
  for (const direction of ['down', 'up'] as const) {
    test(`${direction}: HTTP ${status} → ${label}, and the error is LW_PROBE_HTTP_STATUS's message`, async () => {
      const r = await probe(`http://127.0.0.1:${port}/${status}/`, direction);
      assert.equal(r.stopReason, 'error');
      assert.equal(r.failure, label);
      assert.match(r.errors[0] ?? '', new RegExp(`^HTTP ${status} from `));
    });
  }
}

test('upload answered 200 without arrival ticks (not a linkward probe-server) → error, with the hint', async () => {
  const r = await probe(`http://127.0.0.1:${port}/ok/`, 'up');
  assert.equal(r.stopReason, 'error');
  assert.equal(r.failure, 'error');
  assert.match(r.errors[0] ?? '', /no arrival ticks/);
});
