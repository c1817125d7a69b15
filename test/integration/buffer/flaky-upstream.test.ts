/** A real receiver that fails at random (503, 429 + Retry-After, resets, too slow) during a flush: nothing lost, duplicates only as same-key re-sends. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createBufferComponent } from '../../../buffer/component.ts';
import { realBufferDeps } from '../../../buffer/adapters.ts';
import { bufferContext } from '../../support/buffer-context.ts';
import { startReceiver } from '../../support/buffer-receiver.ts';

/** Deterministic PRNG (mulberry32) so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const RECORDS = 3_000;
/** Upper bound for the whole drain; the loop below polls every 50 ms. */
const DRAIN_TIMEOUT_MS = 60_000;

describe('flush through a flaky upstream', () => {
  it('delivers every record; any duplicate came from a re-send with the same Idempotency-Key', async () => {
    const rnd = prng(Number(process.env.BUFFER_FLAKY_SEED ?? 12345));
    const rx = await startReceiver((n) => {
      if (n < 3) return 503; // the upstream starts out broken
      const r = rnd();
      if (r < 0.25) return 503;
      if (r < 0.3) return { status: 429, headers: { 'retry-after': '0' } };
      if (r < 0.4) return 'reset';
      if (r < 0.45) return { status: 204, delayMs: 400 }; // answer after the client's headers timeout: accepted but unseen
      return 204;
    });
    const t = bufferContext({
      sinks: [{ name: 'logs', url: rx.url, protocol: 'ndjson', batchMaxRecords: 50 }],
      buffer: { retry: { baseMs: 10, capMs: 200 }, timeouts: { connectMs: 1000, headersMs: 200, bodyMs: 1000 }, flush: { pollMs: 50 } },
    });
    const comp = createBufferComponent(t.ctx, realBufferDeps(t.ctx));
    await comp.start();
    try {
      const svc = comp.service;
      await Promise.all(Array.from({ length: RECORDS }, (_, i) => svc.appendBody('logs', Buffer.from(`{"id":${i}}`), { contentType: 'application/x-ndjson' })));
      const seen = new Map<number, Set<string>>();
      const deadline = Date.now() + DRAIN_TIMEOUT_MS;
      while (Date.now() < deadline) {
        seen.clear();
        for (const r of rx.accepted()) {
          for (const line of r.body.toString().trim().split('\n')) {
            const id = (JSON.parse(line) as { id: number }).id;
            const keys = seen.get(id) ?? new Set<string>();
            keys.add(r.key ?? '');
            seen.set(id, keys);
          }
        }
        if (seen.size === RECORDS && svc.store!.usage().records === 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(seen.size, RECORDS, `delivered ${seen.size} of ${RECORDS}`);
      for (const [id, keys] of seen) assert.equal(keys.size, 1, `record ${id} arrived under ${keys.size} different keys`);
      const failures = rx.received.filter((r) => r.status >= 300).length;
      const dupRequests = rx.accepted().length - new Set(rx.accepted().map((r) => r.key)).size;
      assert.ok(failures > 10, `the receiver failed ${failures} times`);
      assert.equal(svc.store!.listDeadLetters(10).length, 0);
      t.ctx.log.info({ failures, dupRequests, requests: rx.received.length }, 'flaky run');
    } finally {
      await comp.stop();
      await rx.close();
      t.cleanup();
    }
  });
});
