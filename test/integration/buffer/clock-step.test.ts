/** Wall-clock steps against the real buffer.db (ledger, group commit): rebased times are durable, and the clamp runs at open. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { ManualClock, type Clock } from '../../../agent/base/clock.ts';
import { createBufferComponent, type BufferComponent } from '../../../buffer/component.ts';
import { REBASE_SLICE_RECORDS } from '../../../buffer/clock-rebase.ts';
import { MAINTENANCE_INTERVAL_MS } from '../../../buffer/service.ts';
import type { BatchSender } from '../../../buffer/sender.ts';
import { bufferContext } from '../../support/buffer-context.ts';
import { bufferDeps } from '../../support/buffer-deps.ts';
import { timedRecord } from '../../support/buffer-records.ts';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const REAL = Date.UTC(2026, 11, 5, 12);

/** A ManualClock whose wall clock can be stepped while the monotonic one runs on. */
class SteppingClock implements Clock {
  readonly base: ManualClock;
  offset = 0;
  constructor(startMs: number) {
    this.base = new ManualClock(startMs);
  }
  nowMs = (): number => this.base.nowMs() + this.offset;
  monoMs = (): number => this.base.monoMs();
  sleep = (ms: number, signal?: AbortSignal): Promise<void> => this.base.sleep(ms, signal);
  setTimer = (ms: number, fn: () => void): (() => void) => this.base.setTimer(ms, fn);
}

const failing: BatchSender = { send: async () => ({ status: 503 }), close: async () => {} };
const config = { sinks: [{ name: 'metrics', url: 'http://127.0.0.1:9/x', protocol: 'raw' as const, ttlSeconds: 86_400 }] };

/** The component on the real SQLite adapters in `dir` (upstream always 503, retries an hour apart). */
async function open(clock: Clock, dir?: string): Promise<{ comp: BufferComponent; dir: string; metrics(): Promise<string> }> {
  const t = bufferContext({ ...config, buffer: { retry: { baseMs: 3_600_000, capMs: 3_600_000 } } }, { clock, ...(dir ? { stateDir: dir } : {}) });
  const comp = createBufferComponent(t.ctx, bufferDeps(t.ctx, { senderFactory: () => failing, random: () => 0.5 }));
  await comp.start();
  assert.equal(comp.service.unavailable, null);
  return { comp, dir: t.dir, metrics: () => t.ctx.metrics.metrics() };
}

const rows = (c: BufferComponent) => c.service.store!.listRecords(null, 100).map((r) => [r.createdMs, r.expiresMs]);

describe('buffer.db across wall-clock steps', () => {
  it('a forward NTP step of 7 days: the rebased times are committed, survive a restart, and expire 24 h after the real ingest', async () => {
    const clock = new SteppingClock(REAL - 7 * DAY);
    const a = await open(clock);
    try {
      for (let i = 0; i < 10; i++) {
        await a.comp.service.appendBody('metrics', Buffer.from(`r${i}`));
        clock.base.advance(MIN);
      }
      clock.offset += 7 * DAY;
      clock.base.advance(MAINTENANCE_INTERVAL_MS);
      await a.comp.service.clockSettled();
      await a.comp.stop();
      const b = await open(clock, a.dir);
      try {
        assert.deepEqual(
          rows(b.comp),
          Array.from({ length: 10 }, (_, i) => [REAL + i * MIN, REAL + i * MIN + DAY]),
        );
        assert.equal(b.comp.service.recovery?.losses.length, 0, 'the ledger agrees: nothing missing');
        clock.base.advance(DAY - 12 * MIN);
        assert.equal(b.comp.service.store!.usage().records, 10, 'kept until 24 h after the first ingest');
        clock.base.advance(13 * MIN);
        assert.equal(b.comp.service.store!.usage().records, 0);
      } finally {
        await b.comp.stop();
      }
    } finally {
      rmSync(a.dir, { recursive: true, force: true });
    }
  });

  it('a stop part-way through a rebase of several slices: the next open finishes it; each record moves once, none is swept', async () => {
    const n = 2 * REBASE_SLICE_RECORDS + 500;
    const clock = new SteppingClock(REAL - 7 * DAY);
    const a = await open(clock);
    try {
      const t0 = clock.nowMs();
      a.comp.service.store!.appendMany(Array.from({ length: n }, (_, i) => timedRecord('metrics', `r${i}`, t0 - i, t0 - i + DAY)));
      clock.offset += 7 * DAY; // NTP steps the clock forward
      clock.base.advance(MAINTENANCE_INTERVAL_MS);
      const store = a.comp.service.store!;
      let plan = store.shiftState().plan;
      for (let turns = 0; turns < 10_000 && (plan === null || plan.doneId === 0); turns++) {
        await new Promise((resolve) => setImmediate(resolve));
        plan = store.shiftState().plan;
      }
      assert.equal(plan?.moved, REBASE_SLICE_RECORDS, 'stopped after the first slice committed');
      await a.comp.stop(); // the power is cut part-way (a stop between slices: the same committed state)
      const b = await open(clock, a.dir);
      try {
        b.comp.service.maintain(); // a TTL sweep before the resumed plan finished
        assert.equal(b.comp.service.store!.usage().records, n, 'nothing swept on old-frame times before the resume');
        await b.comp.service.clockSettled();
        assert.deepEqual(b.comp.service.store!.shiftState(), { plan: null, queued: [] });
        const created = b.comp.service.store!.listRecords(null, n).map((r) => r.createdMs);
        assert.deepEqual(
          created,
          Array.from({ length: n }, (_, i) => t0 - i + 7 * DAY),
          'every record moved by the step, once',
        );
        assert.ok(
          (await b.metrics()).includes(`linkward_buffer_rebased_records_total{action="shifted"} ${n}\n`),
          'the resumed plan counts every record it moved',
        );
        clock.base.advance(DAY - 2 * MAINTENANCE_INTERVAL_MS);
        assert.equal(b.comp.service.store!.usage().records, n, 'kept for 24 h from their real ingest');
      } finally {
        await b.comp.stop();
      }
    } finally {
      rmSync(a.dir, { recursive: true, force: true });
    }
  });

  it('a second step seen while the first plan runs, then a stop: the next open applies both, once each; none is swept', async () => {
    const n = 2 * REBASE_SLICE_RECORDS + 500;
    const clock = new SteppingClock(REAL - 2 * DAY); // the box's clock two days behind
    const a = await open(clock);
    try {
      const t0 = clock.nowMs();
      const store = a.comp.service.store!;
      store.appendMany(Array.from({ length: n }, (_, i) => timedRecord('metrics', `r${i}`, t0 - i, t0 - i + DAY)));
      clock.offset += DAY; // NTP's first step
      clock.base.advance(MAINTENANCE_INTERVAL_MS);
      let plan = store.shiftState().plan;
      for (let turns = 0; turns < 10_000 && (plan === null || plan.doneId === 0); turns++) {
        await new Promise((resolve) => setImmediate(resolve));
        plan = store.shiftState().plan;
      }
      clock.offset += DAY; // a second step while the first plan runs
      a.comp.service.maintain(); // the check that sees it
      assert.equal(store.shiftState().queued.length, 1, 'stored the moment it was seen');
      await a.comp.stop();
      const b = await open(clock, a.dir);
      try {
        b.comp.service.maintain();
        assert.equal(b.comp.service.store!.usage().records, n, 'nothing swept on old-frame times');
        await b.comp.service.clockSettled();
        const created = b.comp.service.store!.listRecords(null, n).map((r) => r.createdMs);
        assert.deepEqual(
          created,
          Array.from({ length: n }, (_, i) => t0 - i + 2 * DAY),
          'both steps, once each',
        );
        b.comp.service.maintain();
        assert.equal(b.comp.service.store!.usage().records, n, 'minutes old: kept');
      } finally {
        await b.comp.stop();
      }
    } finally {
      rmSync(a.dir, { recursive: true, force: true });
    }
  });

  it('the clamp at open while ingest goes on: records stored meanwhile are neither capped nor counted', async () => {
    const n = 3 * REBASE_SLICE_RECORDS;
    const clock = new SteppingClock(REAL);
    const a = await open(clock);
    const t0 = clock.nowMs();
    a.comp.service.store!.appendMany(Array.from({ length: n }, (_, i) => timedRecord('metrics', `r${i}`, t0 - DAY + i, t0 + i)));
    await a.comp.stop();
    const b = await open(clock, a.dir);
    try {
      let ingesting = true;
      const ingest = (async () => {
        while (ingesting) {
          clock.base.advance(50); // the wall clock moves on while the clamp's slices run
          void b.comp.service.appendBody('metrics', Buffer.from('live'));
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      await b.comp.service.clockSettled();
      ingesting = false;
      await ingest;
      const m = await b.metrics();
      assert.ok(!m.includes('linkward_buffer_rebased_records_total{'), `nothing clamped: ${m.split('\n').filter((l) => l.includes('rebased_records_total{'))}`);
    } finally {
      await b.comp.stop();
      rmSync(a.dir, { recursive: true, force: true });
    }
  });

  it('a file written with the clock a week ahead is clamped at the next open: expiry at most now + TTL, no creation in the future', async () => {
    const ahead = new SteppingClock(REAL + 7 * DAY);
    const a = await open(ahead);
    try {
      for (let i = 0; i < 5; i++) await a.comp.service.appendBody('metrics', Buffer.from(`r${i}`));
      await a.comp.stop();
      const b = await open(new SteppingClock(REAL), a.dir);
      try {
        await b.comp.service.clockSettled(); // the clamp at open runs a slice at a time once the store is open
        assert.deepEqual(
          rows(b.comp),
          Array.from({ length: 5 }, () => [REAL, REAL + DAY]),
        );
      } finally {
        await b.comp.stop();
      }
    } finally {
      rmSync(a.dir, { recursive: true, force: true });
    }
  });
});
