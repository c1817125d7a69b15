/** BufferService/component wiring with injected store and sender: TTL expiry counted, secrets resolved, store failure → not ready. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ManualClock } from '../../../agent/base/clock.ts';
import { createBufferComponent } from '../../../buffer/component.ts';
import { resolveSinkHeaders } from '../../../buffer/secrets.ts';
import { MAINTENANCE_INTERVAL_MS, type BufferDeps } from '../../../buffer/service.ts';
import { MemoryStore } from '../../../buffer/store-memory.ts';
import { encodeWriteRequest } from '../../../buffer/remote-write.ts';
import type { BatchSender } from '../../../buffer/sender.ts';
import { bufferContext } from '../../support/buffer-context.ts';
import { bufferDeps, heldStore } from '../../support/buffer-deps.ts';

const failing: BatchSender = { send: async () => ({ status: 503 }), close: async () => {} };
/** Every adapter a fake: a memory store, an upstream that always answers 503, fixed jitter. */
const fakes = (): BufferDeps => ({ openStore: heldStore(new MemoryStore()), senderFactory: () => failing, random: () => 0.5 });

describe('buffer service', () => {
  it('expires records past their sink TTL on the maintenance tick and counts them as ttl drops', async () => {
    const clock = new ManualClock();
    const t = bufferContext(
      { sinks: [{ name: 'short', url: 'http://127.0.0.1:9/x', protocol: 'raw', ttlSeconds: 10 }], buffer: { retry: { baseMs: 3_600_000, capMs: 3_600_000 } } },
      { clock },
    );
    const comp = createBufferComponent(t.ctx, fakes());
    await comp.start();
    try {
      await comp.service.appendBody('short', Buffer.from('a'));
      await comp.service.appendBody('short', Buffer.from('b'));
      clock.advance(MAINTENANCE_INTERVAL_MS);
      assert.equal(comp.service.store!.usage().records, 0);
      assert.match(await t.ctx.metrics.metrics(), /linkward_buffer_dropped_records_total\{sink="short",reason="ttl"\} 2/);
    } finally {
      await comp.stop();
      t.cleanup();
    }
  });

  it('status warns before a Prometheus backlog reaches the head window, and lists it in stats', async () => {
    const clock = new ManualClock();
    const t = bufferContext(
      {
        sinks: [{ name: 'prom', url: 'http://127.0.0.1:9/x', protocol: 'prometheus-remote-write' }],
        buffer: { retry: { baseMs: 3_600_000, capMs: 3_600_000 } },
      },
      { clock },
    );
    const comp = createBufferComponent(t.ctx, fakes());
    await comp.start();
    try {
      await comp.service.appendBody('prom', encodeWriteRequest([{ labels: { __name__: 'm' }, samples: [{ value: 1, timestampMs: clock.nowMs() }] }]), {
        contentType: 'application/x-protobuf',
        createdMs: clock.nowMs() - 50 * 60_000,
      });
      assert.match(comp.status().message ?? '', /sink prom \(normal\): oldest record is 50 min old; its upstream refuses data older than 60 min/);
      const details = comp.status().details as { backlogWarnings: { level: string }[] };
      assert.deepEqual(
        details.backlogWarnings.map((w) => w.level),
        ['near'],
      );
    } finally {
      await comp.stop();
      t.cleanup();
    }
  });

  it('a store that cannot be opened makes the agent not ready and ingest answer 503, without throwing', async () => {
    const t = bufferContext({ sinks: [{ name: 's', url: 'http://127.0.0.1:9/x' }] });
    t.ctx.stateDir = join(t.dir, 'does', 'not', 'exist');
    // The real SQLite opener (the directory is missing), a fake upstream.
    const comp = createBufferComponent(t.ctx, bufferDeps(t.ctx, { senderFactory: () => failing, random: () => 0.5 }));
    await comp.start();
    try {
      assert.equal(comp.status().state, 'error');
      assert.match(comp.notReadyReasons!()[0] ?? '', /telemetry buffer: cannot open/);
      await assert.rejects(comp.service.appendBody('s', Buffer.from('x')), { code: 'LW_BUFFER_UNAVAILABLE' });
    } finally {
      await comp.stop();
      t.cleanup();
    }
  });

  it('works through the adapters it is given alone, and closes the opened store once, after the senders', async () => {
    const clock = new ManualClock();
    const t = bufferContext(
      {
        sinks: [{ name: 'a', url: 'http://127.0.0.1:9/x', protocol: 'raw', headers: { 'X-Key': 'v' } }],
        buffer: { retry: { baseMs: 3_600_000, capMs: 3_600_000 } },
      },
      { clock },
    );
    const events: string[] = [];
    const store = new MemoryStore();
    const deps: BufferDeps = {
      openStore: () => {
        events.push('open');
        return { store, livePath: null, movedAside: null, recovery: null, close: async () => void events.push('store closed') };
      },
      senderFactory: (sink, headers) => {
        events.push(`sender ${sink.name} ${JSON.stringify(headers)}`);
        return { send: async () => (events.push('send'), { status: 503 }), close: async () => void events.push('sender closed') };
      },
      random: () => (events.push('jitter'), 0.25),
    };
    const comp = createBufferComponent(t.ctx, deps);
    await comp.start();
    try {
      assert.equal(comp.service.store, store);
      await comp.service.appendBody('a', Buffer.from('x'));
      for (let i = 0; i < 50 && !events.includes('jitter'); i++) await new Promise((r) => setImmediate(r));
      assert.deepEqual(events, ['open', 'sender a {"x-key":"v"}', 'send', 'jitter'], 'the 503 is retried after a backoff drawn from the injected random');
      assert.equal(comp.service.forwarders.get('a')?.status().backoffMs, 900_000, 'full jitter: 0.25 of the 3,600 s cap');
    } finally {
      await comp.stop();
      t.cleanup();
    }
    assert.deepEqual(events.slice(4), ['sender closed', 'store closed']);
  });

  it('selfTelemetry must point at a remote-write sink (rejected when the config is validated)', () => {
    assert.throws(
      () => bufferContext({ sinks: [{ name: 'logs', url: 'http://127.0.0.1:9/x', protocol: 'ndjson' }], buffer: { selfTelemetry: { sink: 'logs' } } }),
      (e: unknown) => e instanceof Error && /needs prometheus-remote-write/.test(e.message) && /selfTelemetry/.test(e.message),
    );
  });
});

describe('sink header secrets', () => {
  it('substitutes ${ENV} and reads header files; names the missing variable but never a value', () => {
    const h = resolveSinkHeaders(
      { name: 's', headers: { Authorization: 'Bearer ${TOKEN_X}', 'X-Static': 'v' }, headerFiles: { 'X-Key': '/secret' } },
      { TOKEN_X: 'sekrit' },
      () => ' filekey\n',
    );
    assert.deepEqual(h, { authorization: 'Bearer sekrit', 'x-static': 'v', 'x-key': 'filekey' });
    assert.throws(
      () => resolveSinkHeaders({ name: 's', headers: { A: '${NOPE}' }, headerFiles: {} }, {}),
      (e: Error & { code?: string }) => e.code === 'LW_BUFFER_SECRET_MISSING' && /NOPE/.test(e.message),
    );
    assert.throws(
      () =>
        resolveSinkHeaders({ name: 's', headers: {}, headerFiles: { A: '/x' } }, {}, () => {
          throw new Error('ENOENT');
        }),
      { code: 'LW_BUFFER_SECRET_MISSING' },
    );
  });
});
