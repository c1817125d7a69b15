/** SinkForwarder decisions with a scripted sender: ack, retry + Retry-After, 413 split, dead letters, order, gate, pacing. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../agent/base/clock.ts';
import { LwError } from '../../../agent/base/errors.ts';
import { silentLogger } from '../../../agent/base/log.ts';
import { SinkSchema, BufferConfigSchema, PRIORITY_RANK } from '../../../agent/config/buffer.ts';
import { SinkForwarder } from '../../../buffer/forwarder.ts';
import { createPaceBucket, wireBytes } from '../../../buffer/pacer.ts';
import type { GateDecision } from '../../../buffer/gate.ts';
import type { BatchSender, SendOutcome } from '../../../buffer/sender.ts';
import { MemoryStore } from '../../../buffer/store-memory.ts';
import type { SealedBatch } from '../../../buffer/types.ts';

class ScriptedSender implements BatchSender {
  sent: { id: string; body: Buffer; records: number }[] = [];
  script: SendOutcome[];
  /** When set, answers instead of the script (e.g. refuse any body holding a bad line). */
  judge: ((body: Buffer) => SendOutcome) | null = null;
  constructor(script: SendOutcome[] = []) {
    this.script = script;
  }
  async send(b: SealedBatch): Promise<SendOutcome> {
    this.sent.push({ id: b.id, body: Buffer.from(b.body), records: b.recordCount });
    if (this.judge) return this.judge(Buffer.from(b.body));
    return this.script.shift() ?? { status: 204 };
  }
  async close(): Promise<void> {}
}

function setup(script: SendOutcome[] = [], gate: Partial<GateDecision> = {}, sinkOver: Record<string, unknown> = {}, flushOver: Record<string, unknown> = {}) {
  const clock = new ManualClock();
  const store = new MemoryStore();
  const sender = new ScriptedSender(script);
  const sink = SinkSchema.parse({ name: 's', url: 'http://127.0.0.1:1/x', protocol: 'ndjson', compression: 'none', ...sinkOver });
  const dead: number[] = [];
  const dropped: number[] = [];
  const delivered: number[] = [];
  const g: GateDecision = { mode: 'drain', maxPriority: 2, rateBps: null, reason: 'test', ...gate };
  const fw = new SinkForwarder({
    sink,
    cfg: BufferConfigSchema.parse({ retry: { baseMs: 1000, capMs: 60_000 }, flush: { canaryIntervalMs: 30_000, pollMs: 1000, ...flushOver } }),
    store,
    sender,
    clock,
    log: silentLogger(),
    gate: () => g,
    random: () => 0.5,
    hooks: { onSend: () => {}, onDelivered: (_s, n) => delivered.push(n), onDeadLetter: (_s, n, _b, kept) => (kept ? dead : dropped).push(n) },
  });
  const add = (lines: string[], priority = 'normal' as keyof typeof PRIORITY_RANK) =>
    store.appendMany(
      lines.map((l) => ({
        sink: 's',
        priority: PRIORITY_RANK[priority],
        createdMs: clock.nowMs(),
        expiresMs: null,
        contentType: 'application/x-ndjson',
        contentEncoding: null,
        body: Buffer.from(l),
      })),
    );
  return { clock, store, sender, fw, add, dead, dropped, delivered, g };
}

describe('sink forwarder', () => {
  it('sends a merged batch and acks it; idle afterwards', async () => {
    const { fw, add, sender, store } = setup();
    add(['a', 'b', 'c']);
    assert.equal(await fw.step(), 0);
    assert.equal(sender.sent.length, 1);
    assert.equal(sender.sent[0]!.body.toString(), 'a\nb\nc\n');
    assert.equal(store.usage().records, 0);
    assert.equal(await fw.step(), 1000);
  });

  it('retries with Retry-After, re-sending the byte-identical batch under the same id', async () => {
    const { fw, add, sender, clock, store } = setup([
      { status: 503, retryAfter: '7' },
      { status: null, error: 'reset' },
    ]);
    add(['x', 'y']);
    assert.equal(await fw.step(), 7000);
    add(['z']);
    assert.equal(await fw.step(), 7000); // still in backoff: the whole delay remains
    clock.advance(7000);
    const wait = await fw.step(); // network error → full jitter: 0.5 × min(60 s, 1 s·2^1)
    assert.equal(wait, 1000);
    clock.advance(1000);
    assert.equal(await fw.step(), 0);
    assert.equal(sender.sent.length, 3);
    assert.equal(new Set(sender.sent.map((s) => s.id)).size, 1);
    assert.ok(sender.sent.every((s) => s.body.equals(sender.sent[0]!.body)));
    assert.equal(store.usage().records, 1); // 'z' was not in the sealed batch
  });

  it('413 splits the batch in halves; a single record that is still too large is dead-lettered', async () => {
    const { fw, add, sender, store, dead } = setup([{ status: 413 }, { status: 413 }, { status: 204 }, { status: 413 }]);
    add(['1', '2', '3', '4']);
    await fw.step(); // 4 records → 413 → unseal
    await fw.step(); // 2 records → 413 → unseal
    await fw.step(); // 1 record ok
    await fw.step(); // 1 record 413 → dead letter
    assert.deepEqual(
      sender.sent.map((s) => s.records),
      [4, 2, 1, 1],
    );
    assert.deepEqual(dead, [1]);
    assert.equal(store.listDeadLetters(10)[0]!.status, 413);
    assert.equal(store.usage().records, 2);
  });

  it('a permanent 400 is bisected until only the bad records are dead-lettered, each with its reason; order kept', async () => {
    const { fw, add, sender, store, dead, delivered } = setup([], {}, { protocol: 'ndjson' });
    const lines = Array.from({ length: 9 }, (_, i) => (i === 3 || i === 7 ? `bad${i}` : `ok${i}`));
    add(lines);
    sender.judge = (body) => (body.toString().includes('bad') ? { status: 400, error: 'line 1: bad\nrecord\t' } : { status: 204 });
    for (let i = 0; i < 40 && store.usage().records > 0; i++) await fw.step();
    assert.equal(store.usage().records, 0);
    assert.deepEqual(dead, [1, 1]);
    const dl = store.listDeadLetters(10);
    assert.deepEqual(dl.map((d) => Buffer.from(d.body).toString()).sort(), ['bad3\n', 'bad7\n']);
    assert.ok(
      dl.every((d) => d.reason === 'HTTP 400: line 1: bad record'),
      dl[0]!.reason,
    );
    const okOrder = sender.sent.filter((s) => !s.body.toString().includes('bad')).flatMap((s) => s.body.toString().trim().split('\n'));
    assert.deepEqual(
      okOrder,
      lines.filter((l) => l.startsWith('ok')),
      'every good record delivered once, in order',
    );
    assert.equal(
      delivered.reduce((a, b) => a + b, 0),
      7,
    );
    assert.ok(sender.sent.length <= 2 * 2 * Math.ceil(Math.log2(9)) + 2, `${sender.sent.length} requests`);
  });

  it('with liveFirst, a refused live batch is bisected on its own records, not on the older backlog', async () => {
    const { fw, sender, store, dead, clock } = setup([], {}, {}, { liveFirst: true, liveWindowMs: 60_000 });
    const rec = (l: string, createdMs: number) => ({
      sink: 's',
      priority: 1,
      createdMs,
      expiresMs: null,
      contentType: 'application/x-ndjson',
      contentEncoding: null,
      body: Buffer.from(l),
    });
    clock.advance(600_000);
    store.appendMany(['old1', 'old2', 'old3'].map((l) => rec(l, clock.nowMs() - 300_000)));
    store.appendMany(['live1', 'bad', 'live3', 'live4'].map((l) => rec(l, clock.nowMs())));
    sender.judge = (body) => (body.toString().includes('bad') ? { status: 400, error: 'nope' } : { status: 204 });
    for (let i = 0; i < 20 && store.usage().records > 0; i++) await fw.step();
    assert.equal(store.usage().records, 0);
    assert.deepEqual(dead, [1]);
    const bodies = sender.sent.map((x) => x.body.toString().trim().split('\n'));
    assert.deepEqual(bodies, [['live1', 'bad', 'live3', 'live4'], ['live1', 'bad'], ['live1'], ['bad'], ['live3', 'live4'], ['old1', 'old2', 'old3']]);
  });

  it('a delivered batch whose ack cannot be stored (disk full) is not re-sent, and counts as sent only once stored', async () => {
    const { fw, add, sender, store, delivered } = setup();
    add(['a', 'b']);
    const realAck = store.ack.bind(store);
    let full = 2;
    store.ack = (id: string) => {
      if (full-- > 0) throw new LwError('LW_BUFFER_DISK_FULL', 'disk full');
      return realAck(id);
    };
    assert.equal(await fw.step(), 200);
    assert.deepEqual(delivered, []);
    assert.equal(fw.status().ackPendingAttempts, 1);
    assert.ok((await fw.step()) >= 200);
    assert.deepEqual(delivered, []);
    assert.equal(fw.status().ackPendingAttempts, 2, 'status says a delivered batch waits for its acknowledgement');
    assert.match(fw.status().lastStepError ?? '', /disk full/);
    await fw.step();
    assert.deepEqual(delivered, [2]);
    assert.equal(fw.status().ackPendingAttempts, 0);
    assert.equal(fw.status().lastStepError, null);
    assert.equal(sender.sent.length, 1, 'sent once');
    assert.equal(store.usage().records, 0);
  });

  it('a refused record whose dead letter the full disk cannot hold is dropped as such, and never sent again', async () => {
    const { fw, add, sender, store, dead, dropped } = setup([
      { status: 413, error: '' },
      { status: 413, error: '' },
    ]);
    add(['huge']);
    store.deadLetter = () => {
      throw new LwError('LW_BUFFER_DISK_FULL', 'disk full');
    };
    const realAck = store.ack.bind(store);
    let full = 1;
    store.ack = (id: string) => {
      if (full-- > 0) throw new LwError('LW_BUFFER_DISK_FULL', 'disk full');
      return realAck(id);
    };
    assert.equal(await fw.step(), 200, 'even its deletion waits for room');
    assert.deepEqual(dropped, [], 'counted once the deletion is stored');
    assert.match(fw.status().lastStepError ?? '', /disk full/);
    await fw.step();
    assert.deepEqual(dead, []);
    assert.deepEqual(dropped, [1]);
    assert.equal(store.usage().records, 0);
    await fw.step();
    assert.equal(sender.sent.length, 1, 'not re-sent');
  });

  it('status shows the upstream text as one bounded line, and "HTTP 503" for an empty body', async () => {
    const { fw, add, clock } = setup([
      { status: 503, error: '' },
      { status: 500, error: 'boom\n  at line 2\r\n' + 'x'.repeat(500) },
    ]);
    add(['a']);
    await fw.step();
    assert.equal(fw.status().lastError, 'HTTP 503');
    clock.advance(60_000);
    await fw.step();
    const e = fw.status().lastError!;
    assert.match(e, /^HTTP 500: boom at line 2 x+…$/);
    assert.ok(e.length <= 210 && !/[\r\n]/.test(e));
  });

  it('permanent 4xx go to the dead letters', async () => {
    const { fw, add, store, dead } = setup([{ status: 400, error: 'bad data' }], {}, { protocol: 'otlp-http' });
    add(['p']);
    assert.equal(await fw.step(), 0);
    assert.deepEqual(dead, [1]);
    assert.match(store.listDeadLetters(1)[0]!.reason, /HTTP 400/);
  });

  it('keeps order within a class and sends high before normal', async () => {
    const { fw, add, sender } = setup([], {}, { batchMaxRecords: 2 });
    add(['n1', 'n2', 'n3']);
    add(['h1'], 'high');
    for (let i = 0; i < 3; i++) await fw.step();
    assert.deepEqual(
      sender.sent.map((s) => s.body.toString()),
      ['h1\n', 'n1\nn2\n', 'n3\n'],
    );
  });

  it('degraded gate sends only the high class', async () => {
    const { fw, add, sender } = setup([], { mode: 'high-only', maxPriority: 0 });
    add(['low'], 'low');
    add(['hi'], 'high');
    await fw.step();
    assert.equal(await fw.step(), 1000);
    assert.deepEqual(
      sender.sent.map((s) => s.body.toString()),
      ['hi\n'],
    );
  });

  it('down gate: one canary per window', async () => {
    const { fw, add, sender, clock } = setup([], { mode: 'canary' });
    add(['a']);
    add(['b'], 'low');
    assert.equal(await fw.step(), 0);
    assert.equal(await fw.step(), 30_000);
    clock.advance(30_000);
    await fw.step();
    assert.equal(sender.sent.length, 2);
  });

  it('paces to the gate rate, and flushNow(force) overrides the gate', async () => {
    const { fw, add, sender } = setup([], { rateBps: 4, mode: 'high-only', maxPriority: 0 });
    add(['12345678'], 'high'); // 9 bytes + request overhead at 4 B/s, bucket starts empty
    const wait = await fw.step();
    assert.ok(wait > 0 && wait <= Math.ceil((wireBytes(9) / 4) * 1000), `wait ${wait}`);
    assert.equal(sender.sent.length, 0);
    add(['lowprio'], 'low');
    fw.flushNow(true);
    await fw.step();
    await fw.step();
    assert.equal(sender.sent.length, 2);
  });
});

describe('pacing across sinks', () => {
  it('two sinks flushing a backlog share one bucket: together they stay within the gate rate', async () => {
    const clock = new ManualClock();
    const store = new MemoryStore();
    const RATE = 20_000; // bytes/s on the wire for the whole flush
    const SECONDS = 10;
    const gate: GateDecision = { mode: 'drain', maxPriority: 2, rateBps: RATE, reason: 'test' };
    const pace = createPaceBucket();
    const fws = ['a', 'b'].map((name) => {
      const sender = new ScriptedSender();
      const fw = new SinkForwarder({
        sink: SinkSchema.parse({ name, url: 'http://127.0.0.1:1/x', protocol: 'ndjson', compression: 'none' }),
        cfg: BufferConfigSchema.parse({ flush: { pollMs: 1000 } }),
        store,
        sender,
        clock,
        log: silentLogger(),
        gate: () => gate,
        pace,
        random: () => 0.5,
        hooks: { onSend: () => {}, onDelivered: () => {}, onDeadLetter: () => {} },
      });
      // a backlog far larger than the window can carry
      store.appendMany(
        Array.from({ length: 2_000 }, (_, i) => ({
          sink: name,
          priority: PRIORITY_RANK.normal,
          createdMs: 0,
          expiresMs: null,
          contentType: 'application/x-ndjson',
          contentEncoding: null,
          body: Buffer.from(`{"n":${i},"p":"${'x'.repeat(180)}"}`),
        })),
      );
      return { fw, sender, dueMs: 0 };
    });
    while (clock.monoMs() < SECONDS * 1000) {
      for (const f of fws) if (f.dueMs <= clock.monoMs()) f.dueMs = clock.monoMs() + (await f.fw.step());
      clock.advance(Math.max(1, Math.min(...fws.map((f) => f.dueMs)) - clock.monoMs()));
    }
    const wire = (f: (typeof fws)[number]) => f.sender.sent.reduce((n, b) => n + wireBytes(b.body.byteLength), 0);
    const total = wire(fws[0]!) + wire(fws[1]!);
    assert.ok(wire(fws[0]!) > 0 && wire(fws[1]!) > 0, 'both sinks flush');
    // a token bucket lets out at most depth + rate × T; the depth is one 50-ms slice (or one batch)
    const bound = RATE * SECONDS + Math.max(RATE * 0.05, ...fws.flatMap((f) => f.sender.sent.map((b) => wireBytes(b.body.byteLength))));
    assert.ok(total <= bound, `${total} B on the wire in ${SECONDS} s, bound ${bound} (each sink alone would have its own ${RATE} B/s)`);
    assert.ok(total >= 0.9 * RATE * SECONDS, `${total} B: the shared bucket still lets the flush use its share`);
    const shareA = wire(fws[0]!) / total;
    assert.ok(shareA > 0.4 && shareA < 0.6, `sink a had ${(shareA * 100).toFixed(0)} % of the bytes: the sinks take turns`);
  });
});
