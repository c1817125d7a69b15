/** Integration: the byte cap of a throughput probe is hard (the server never sends or receives more), on loopback. */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../../agent/base/clock.ts';
import { startProbeServer, type RunningProbeServer } from '../../../probes/server.ts';
import { runThroughput, type Direction, type ThroughputOptions } from '../../../probes/throughput.ts';
import { WIRE_OVERHEAD_FACTOR } from '../../../probes/probe-bytes.ts';

let srv: RunningProbeServer;

before(async () => {
  srv = await startProbeServer({ host: '127.0.0.1', port: 0 });
});
after(async () => {
  await srv.close();
});

/** Runs one probe; returns its result and the payload the server sent (download) or received (upload) meanwhile. */
async function probe(direction: Direction, o: Partial<ThroughputOptions>): Promise<{ r: Awaited<ReturnType<typeof runThroughput>>; served: number }> {
  const before = direction === 'down' ? srv.stats.downBytes : srv.stats.upBytes;
  const r = await runThroughput({
    url: `http://127.0.0.1:${srv.port}/`,
    preset: 'linkward',
    direction,
    streams: 4,
    maxBytes: 2_000_000,
    maxDurationMs: 10_000,
    minMeasureMs: 60_000,
    stableTolerance: 0.05,
    clock: systemClock,
    ...o,
  });
  await new Promise((res) => setTimeout(res, 100)); // let the server see the last bytes
  return { r, served: (direction === 'down' ? srv.stats.downBytes : srv.stats.upBytes) - before };
}

for (const direction of ['down', 'up'] as const) {
  test(`${direction}: a probe that never settles ends on the byte cap; the server moved no more than the cap allows`, async () => {
    const { r, served } = await probe(direction, {});
    assert.equal(r.stopReason, 'bytes');
    assert.ok(r.bytesUsed <= 2_000_000, `counted ${r.bytesUsed}`);
    assert.ok(served <= 2_000_000 / WIRE_OVERHEAD_FACTOR, `server moved ${served} B`);
    assert.equal(served, r.payloadBytes, 'every reserved byte was delivered and counted');
    assert.ok(r.bytesUsed >= r.payloadBytes * WIRE_OVERHEAD_FACTOR, 'headers and TCP/IP overhead counted');
  });

  test(`${direction}: stopped mid-transfer (time cap), bytes in flight stay within the cap and are counted`, async (t) => {
    const { r, served } = await probe(direction, { maxBytes: 8_000_000, maxDurationMs: 15 });
    t.diagnostic(`${r.stopReason}: payload ${r.payloadBytes}, server ${served}, counted ${r.bytesUsed}`);
    assert.ok(['time', 'bytes'].includes(r.stopReason), r.stopReason);
    assert.ok(served <= 8_000_000 / WIRE_OVERHEAD_FACTOR, `server moved ${served} B`);
    assert.ok(r.bytesUsed <= 8_000_000, `counted ${r.bytesUsed}`);
    assert.ok(r.bytesUsed >= r.payloadBytes, `counted ${r.bytesUsed} ≥ payload ${r.payloadBytes}`);
  });
}
