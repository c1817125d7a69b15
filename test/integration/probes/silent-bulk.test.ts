/** Integration: a bulk path that goes silent (a black hole for large packets, a flow killer) gives no figure above what arrived. */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { systemClock } from '../../../agent/base/clock.ts';
import { runThroughput, type Direction } from '../../../probes/throughput.ts';
import { floorMbps } from '../../../probes/throughput-result.ts';
import { figureOf } from '../../../probes/judged-figure.ts';

/** Bytes a download sends before going silent (the flow-killer lab case cut flows after 141 KB). */
const SENT_BEFORE_SILENCE = 140 * 1024;
/** Response headers of the requests, which the kernel's byte counters include. */
const HEADER_SLACK_BYTES = 4_096;

let srv: Server;
let port = 0;
const held: ServerResponse[] = [];

before(async () => {
  // downloads: the headers and SENT_BEFORE_SILENCE bytes, then nothing (the connection stays open);
  // uploads: the body is never read and no answer comes (nothing reaches the server's counters)
  let sent = 0;
  srv = createServer((req, res) => {
    held.push(res);
    if ((req.url ?? '').includes('/down')) {
      const bytes = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('bytes'));
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(bytes) });
      const n = Math.min(bytes, SENT_BEFORE_SILENCE - sent); // across requests: the path dies after SENT_BEFORE_SILENCE
      sent += n;
      if (n > 0) res.write(Buffer.alloc(n));
      if (n === bytes) res.end();
    } else req.pause();
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  port = (srv.address() as { port: number }).port;
});
after(async () => {
  for (const r of held) r.destroy();
  srv.closeAllConnections();
  await new Promise<void>((r) => srv.close(() => r()));
});

const probe = (direction: Direction) =>
  runThroughput({
    url: `http://127.0.0.1:${port}/`,
    preset: 'linkward',
    direction,
    streams: 1,
    maxBytes: 20_000_000,
    maxDurationMs: 1_500,
    minMeasureMs: 300,
    stableTolerance: 0.1,
    clock: systemClock,
    loadedLatency: false,
  });

for (const direction of ['down', 'up'] as const)
  test(`${direction}: a transfer that goes silent reports no figure above what arrived over the whole test`, async () => {
    const r = await probe(direction);
    const floor = floorMbps(r);
    assert.ok(floor !== undefined, 'delivery is known');
    // downloads timed by the kernel's counters (LINKWARD_TCP_INFO) count the response headers too
    assert.ok(r.deliveredBytes! <= (direction === 'down' ? SENT_BEFORE_SILENCE + HEADER_SLACK_BYTES : 0), `delivered ${r.deliveredBytes} B`);
    const f = figureOf({ result: r, suspect: null });
    const shown = `${r.mbps} Mbit/s from the test (lowerBound ${r.lowerBound}, stop ${r.stopReason}), figure ${f.mbps} (lowerBound ${f.lowerBound}), floor ${floor}`;
    assert.ok(f.mbps === undefined || f.mbps <= floor + 1e-9, shown);
  });
