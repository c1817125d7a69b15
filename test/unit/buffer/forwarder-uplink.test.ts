/** The forwarder on an uplink change (D1): it asks its sender for fresh connections and sends the waiting batch at once. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../agent/base/clock.ts';
import { silentLogger } from '../../../agent/base/log.ts';
import { BufferConfigSchema, SinkSchema } from '../../../agent/config/buffer.ts';
import { SinkForwarder } from '../../../buffer/forwarder.ts';
import type { BatchSender, SendOutcome } from '../../../buffer/sender.ts';
import { MemoryStore } from '../../../buffer/store-memory.ts';

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('forwarder on an uplink change', () => {
  it('asks its sender to reconnect and sends the waiting batch at once', async () => {
    const clock = new ManualClock();
    const store = new MemoryStore();
    const log: string[] = [];
    const sender: BatchSender = {
      send: async (): Promise<SendOutcome> => {
        log.push('send');
        return { status: 204 };
      },
      reconnect: () => void log.push('reconnect'),
      close: async () => {},
    };
    const sink = SinkSchema.parse({ name: 's', url: 'http://127.0.0.1:1/x', protocol: 'ndjson', compression: 'none' });
    const fw = new SinkForwarder({
      sink,
      cfg: BufferConfigSchema.parse({ flush: { pollMs: 60_000 } }),
      store,
      sender,
      clock,
      log: silentLogger(),
      gate: () => ({ mode: 'drain', maxPriority: 2, rateBps: null, reason: 'test' }),
      hooks: { onSend: () => {}, onDelivered: () => {}, onDeadLetter: () => {} },
      random: () => 0.5,
    });
    fw.start();
    await settle();
    store.appendMany([
      { sink: 's', priority: 1, createdMs: clock.nowMs(), expiresMs: null, contentType: 'application/x-ndjson', contentEncoding: null, body: Buffer.from('a') },
    ]);
    fw.uplinkChanged();
    for (let i = 0; i < 5 && !log.includes('send'); i++) await settle();
    assert.deepEqual(log, ['reconnect', 'send'], 'reconnected, then the batch went out without waiting for the 60 s poll');
    await fw.stop();
  });

  it('a sender without reconnect (tests, fakes) is fine', () => {
    const sender: BatchSender = { send: async () => ({ status: 204 }), close: async () => {} };
    const fw = new SinkForwarder({
      sink: SinkSchema.parse({ name: 's', url: 'http://127.0.0.1:1/x', protocol: 'ndjson' }),
      cfg: BufferConfigSchema.parse({}),
      store: new MemoryStore(),
      sender,
      clock: new ManualClock(),
      log: silentLogger(),
      gate: () => ({ mode: 'drain', maxPriority: 2, rateBps: null, reason: 'test' }),
      hooks: { onSend: () => {}, onDelivered: () => {}, onDeadLetter: () => {} },
      random: () => 0.5,
    });
    assert.doesNotThrow(() => fw.uplinkChanged());
  });
});
