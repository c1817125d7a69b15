/** ClockRebaser against a memory store: steps kept across a stop on a full disk, and the clamp's view of "now". */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import type { Clock } from '../../../agent/base/clock.ts';
import { LwError } from '../../../agent/base/errors.ts';
import { createLogger } from '../../../agent/base/log.ts';
import { ClockRebaser } from '../../../buffer/clock-rebase.ts';
import { BufferError } from '../../../buffer/errors.ts';
import { createBufferMetrics } from '../../../buffer/metrics.ts';
import { MemoryStore } from '../../../buffer/store-memory.ts';
import type { TimeShift } from '../../../buffer/types.ts';
import { timedRecord } from '../../support/buffer-records.ts';

const H = 3_600_000;
const DAY = 24 * H;

/** Wall and monotonic clocks moved by hand; `offset` steps the wall clock alone. No timers (the rebaser sets none). */
class HandClock implements Clock {
  real = Date.UTC(2026, 11, 5, 12);
  mono = 0;
  offset = 0;
  nowMs(): number {
    return this.real + this.offset;
  }
  monoMs(): number {
    return this.mono;
  }
  setTimer(): () => void {
    return () => {};
  }
  sleep(): Promise<void> {
    return Promise.resolve();
  }
  advance(ms: number): void {
    this.real += ms;
    this.mono += ms;
  }
}

/** A memory store whose queueShift fails while `full` is set (SQLITE_FULL even with the reserve). */
class FullDiskStore extends MemoryStore {
  full = false;
  override queueShift(shift: TimeShift): void {
    if (this.full) throw new LwError(BufferError.DISK_FULL, 'no space left for the telemetry buffer (simulated)');
    super.queueShift(shift);
  }
}

function rebaser(store: MemoryStore, clock: HandClock, active: () => boolean) {
  const metrics = new Registry();
  const logs: Record<string, unknown>[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  const r = new ClockRebaser({
    store,
    clock,
    sinks: [{ name: 'm', ttlSeconds: DAY / 1000 }],
    log: createLogger({ level: 'warn', format: 'json', dest }),
    metrics: createBufferMetrics(
      metrics,
      () => [],
      () => clock.nowMs(),
      () => 0,
      () => ({ used: 0, waiting: 0 }),
    ),
    drain: async () => {},
    active,
    settled: () => {},
  });
  return { r, logs, metrics };
}

test('a step that could not be stored when seen (full disk) is stored at the stop, so the next open applies it and sweeps nothing', async () => {
  const clock = new HandClock();
  clock.offset = -7 * DAY; // booted a week behind
  const store = new FullDiskStore();
  for (let i = 0; i < 10; i++) {
    store.appendMany([timedRecord('m', `r${i}`, clock.nowMs(), clock.nowMs() + DAY)]);
    clock.advance(60_000);
  }
  let active = true;
  const a = rebaser(store, clock, () => active);
  a.r.open();
  await a.r.idle();
  store.full = true;
  clock.offset = 0; // NTP steps the clock forward
  clock.advance(30_000);
  a.r.settled();
  await a.r.idle(); // seen; storing it failed, now and at the rebase's try: retried in 30 s
  assert.deepEqual(store.shiftState().queued, []);
  active = false; // the service stops before the retry
  await a.r.idle();
  store.full = false; // e.g. acknowledgements freed pages meanwhile
  a.r.storeBeforeStop();
  assert.equal(store.shiftState().queued.length, 1, 'stored at the stop');
  active = true;
  const b = rebaser(store, clock, () => active);
  b.r.open();
  await b.r.idle();
  assert.equal(
    store.expire(b.r.expiryCutoffMs(), 1_000).reduce((n, d) => n + d.records, 0),
    0,
    'records about 10 minutes old: none expired',
  );
});

test('a step that cannot be stored even at the stop is logged at error, naming the loss', async () => {
  const clock = new HandClock();
  const store = new FullDiskStore();
  store.appendMany([timedRecord('m', 'r', clock.nowMs(), clock.nowMs() + DAY)]);
  let active = true;
  const a = rebaser(store, clock, () => active);
  a.r.open();
  await a.r.idle();
  store.full = true;
  clock.offset = DAY;
  clock.advance(30_000);
  a.r.settled();
  active = false;
  await a.r.idle();
  a.r.storeBeforeStop();
  const last = a.logs.at(-1);
  assert.equal(last?.level, 50);
  assert.equal(last?.code, BufferError.DISK_FULL);
  assert.match(String(last?.msg), /could not be stored before the stop.*may expire early/);
});

test('the clamp reads now in the turn of its first slice: a record committed just before it is neither capped nor counted', async () => {
  const clock = new HandClock();
  const store = new MemoryStore();
  store.appendMany([timedRecord('m', 'old', clock.nowMs(), clock.nowMs() + DAY)]);
  const { r, metrics } = rebaser(store, clock, () => true);
  r.open(); // the clamp at open: its first slice waits a turn of the loop
  await new Promise((resolve) => setImmediate(resolve));
  clock.advance(3);
  store.appendMany([timedRecord('m', 'new', clock.nowMs(), clock.nowMs() + DAY)]); // a group commit in that turn
  await r.idle();
  assert.equal(store.listRecords(null, 10)[1]?.createdMs, clock.nowMs());
  assert.doesNotMatch(await metrics.metrics(), /linkward_buffer_rebased_records_total\{/);
});
