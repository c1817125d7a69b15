/** Wall-clock steps while buffering: a forward NTP step keeps old-frame records for their real TTL, a backward one clamps. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../agent/base/clock.ts';
import { WallStepWatch } from '../../../agent/base/wall-step.ts';
import { CLOCK_STEP_THRESHOLD_MS, expiryCaps, shiftFor } from '../../../buffer/clock-step.ts';
import { REBASE_SLICE_RECORDS } from '../../../buffer/clock-rebase.ts';
import { toRecord } from '../../../buffer/ingest.ts';
import { MemoryStore } from '../../../buffer/store-memory.ts';
import type { ShiftPlan, TimeShift } from '../../../buffer/types.ts';
import { timedRecord } from '../../support/buffer-records.ts';
import { advanceTo, type ClockRig, clockRig, DAY, H, ingestTen, MIN, REAL, sink, stopRig } from '../../support/buffer-clock-rig.ts';

/** The ten records of ingestTen, stored with the clock 7 days behind, now at their real ingest times (REAL + i min). */
function assertTenShifted(r: ClockRig): void {
  assert.deepEqual(
    r.rows().map((x) => x.createdMs),
    Array.from({ length: 10 }, (_, i) => REAL + i * MIN),
  );
  assert.equal(r.comp.service.lastClockStep?.shiftedRecords, 10);
}

describe('clock step rules (pure)', () => {
  it('a forward step moves the rows at or before its cutoff; a backward one moves none; TTL caps per sink', () => {
    assert.deepEqual(shiftFor({ deltaMs: 7 * DAY, atMs: REAL, sinceCheckMs: 30_000 }), { deltaMs: 7 * DAY, cutoffMs: REAL - 7 * DAY });
    assert.equal(shiftFor({ deltaMs: -H, atMs: REAL, sinceCheckMs: 30_000 }), null, 'a backward step moves nothing (clamped instead)');
    assert.deepEqual([...expiryCaps([sink('a', 60), sink('b', 0)], REAL)], [['a', REAL + 60_000]]);
  });

  it('the step watch at the buffer threshold: clocks that advance together are no step, nor is a move of exactly the threshold', () => {
    const clock = new ManualClock(REAL);
    const watch = new WallStepWatch(clock, { stepMinMs: CLOCK_STEP_THRESHOLD_MS, forgetSmall: true });
    clock.advance(10 * MIN);
    assert.deepEqual(watch.take(), { stepMs: 0, suspendMs: 0 }, 'a late check: both clocks moved alike');
    clock.stepWall(CLOCK_STEP_THRESHOLD_MS);
    assert.deepEqual(watch.take(), { stepMs: 0, suspendMs: 0 }, 'exactly the threshold');
    clock.stepWall(-CLOCK_STEP_THRESHOLD_MS - H);
    assert.deepEqual(watch.take(), { stepMs: -CLOCK_STEP_THRESHOLD_MS - H, suspendMs: 0 }, 'measured from the last check: the small step is forgotten');
  });
});

describe('buffer across wall-clock steps', () => {
  it('a forward step of 7 days keeps every record buffered before it; each expires 24 h after its real ingest', async () => {
    const clock = new ManualClock(REAL - 7 * DAY); // booted without RTC: a week behind, uplink down
    const r = await clockRig(clock);
    try {
      await ingestTen(r, clock);
      clock.stepWall(7 * DAY); // NTP
      await r.tick();
      assert.equal(r.rows().length, 10, 'none dropped as expired at the first sweep after the step');
      assert.deepEqual(
        r.rows().map((x) => [x.createdMs, x.expiresMs]),
        Array.from({ length: 10 }, (_, i) => [REAL + i * MIN, REAL + i * MIN + DAY]),
      );
      const warn = r.logs.find((l) => l.deltaMs === 7 * DAY);
      assert.equal(warn?.level, 40);
      assert.equal(warn?.shiftedRecords, 10);
      assert.match(await r.metrics(), /linkward_buffer_clock_steps_total\{direction="forward"\} 1\n/);
      assert.match(await r.metrics(), /linkward_buffer_rebased_records_total\{action="shifted"\} 10\n/);
      const details = r.comp.status().details as { clockStep?: { deltaMs: number; shiftedRecords: number } };
      assert.deepEqual([details.clockStep?.deltaMs, details.clockStep?.shiftedRecords], [7 * DAY, 10]);
      advanceTo(clock, REAL + DAY - MIN);
      assert.equal(r.rows().length, 10, 'kept until 24 h after the first ingest');
      advanceTo(clock, REAL + DAY + 10 * MIN + MIN);
      assert.equal(r.rows().length, 0, 'all gone 24 h after the last ingest');
      assert.match(await r.metrics(), /linkward_buffer_dropped_records_total\{sink="metrics",reason="ttl"\} 10\n/);
    } finally {
      await stopRig(r);
    }
  });

  it('a backward step caps expiry at now + TTL and created at now', async () => {
    const clock = new ManualClock(REAL + 7 * DAY); // clock a week ahead at ingest
    const r = await clockRig(clock);
    try {
      await ingestTen(r, clock);
      clock.stepWall(-7 * DAY);
      await r.tick();
      const now = clock.nowMs();
      assert.equal(r.rows().length, 10);
      for (const x of r.rows()) {
        assert.ok(x.createdMs <= now, 'no record created in the future (backlog age never negative)');
        assert.ok(x.expiresMs !== null && x.expiresMs <= now + DAY, 'kept at most the TTL from now, not the offset beyond it');
      }
      assert.equal(r.comp.service.lastClockStep?.deltaMs, -7 * DAY);
      assert.match(await r.metrics(), /linkward_buffer_clock_steps_total\{direction="backward"\} 1\n/);
      assert.match(await r.metrics(), /linkward_buffer_rebased_records_total\{action="expiry_clamped"\} 10\n/);
      advanceTo(clock, now + DAY + MIN);
      assert.equal(r.rows().length, 0);
    } finally {
      await stopRig(r);
    }
  });

  it('records ingested after the step (before the check saw it) keep their times', async () => {
    const clock = new ManualClock(REAL - 7 * DAY);
    const r = await clockRig(clock);
    try {
      for (let i = 0; i < 3; i++) await r.comp.service.appendBody('metrics', Buffer.from(`old${i}`));
      clock.advance(MIN);
      clock.stepWall(7 * DAY);
      clock.advance(5_000);
      // The HTTP ingest path's record, built from the new clock.
      const fresh = toRecord(r.comp.service.sinks.get('metrics')!, {}, Buffer.from('new'), clock.nowMs());
      await r.comp.service.append(fresh);
      await r.tick();
      const byBody = new Map(r.rows().map((x) => [Buffer.from(x.body).toString(), x]));
      assert.equal(byBody.get('new')?.createdMs, fresh.createdMs, 'not shifted');
      assert.equal(byBody.get('new')?.expiresMs, fresh.expiresMs);
      assert.deepEqual(
        ['old0', 'old1', 'old2'].map((b) => byBody.get(b)?.createdMs),
        [REAL, REAL, REAL],
        'the old-frame ones moved by the step',
      );
    } finally {
      await stopRig(r);
    }
  });

  it('a record built before the step but still waiting in the group commit is shifted too', async () => {
    const clock = new ManualClock(REAL - 7 * DAY);
    const r = await clockRig(clock);
    try {
      clock.advance(MIN);
      const old = toRecord(r.comp.service.sinks.get('metrics')!, {}, Buffer.from('queued'), clock.nowMs());
      clock.stepWall(7 * DAY);
      const acked = r.comp.service.append(old); // queued: commits on the next turn of the loop
      r.comp.service.maintain(); // the check runs before the commit
      await acked;
      await r.comp.service.clockSettled();
      assert.deepEqual(
        r.rows().map((x) => x.createdMs),
        [REAL + MIN],
      );
    } finally {
      await stopRig(r);
    }
  });

  it('a rebase that fails (full disk) holds the TTL sweep back and is retried later', async () => {
    let failures = 1;
    class FullDiskStore extends MemoryStore {
      override shiftSome(maxRecords: number): ShiftPlan {
        if (failures-- > 0) throw new Error('SQLITE_FULL (simulated)');
        return super.shiftSome(maxRecords);
      }
    }
    const clock = new ManualClock(REAL - 7 * DAY);
    const r = await clockRig(clock, undefined, new FullDiskStore());
    try {
      await ingestTen(r, clock);
      clock.stepWall(7 * DAY);
      await r.tick();
      assert.equal(r.rows().length, 10, 'not swept while the rows are in the old frame');
      assert.match(String(r.logs.at(-1)?.msg), /could not be rebased/);
      assert.equal(r.logs.at(-1)?.retryInMs, 30_000);
      await r.tick();
      assert.equal(r.rows().length, 10);
      assertTenShifted(r);
    } finally {
      await stopRig(r);
    }
  });

  it('a step that cannot be stored when seen (full disk) is kept in memory, holds the sweep back, and is stored and applied on retry', async () => {
    let failures = 2; // when seen, and at the rebase's first try
    class FullDiskStore extends MemoryStore {
      override queueShift(shift: TimeShift): void {
        if (failures-- > 0) throw new Error('SQLITE_FULL (simulated)');
        super.queueShift(shift);
      }
    }
    const clock = new ManualClock(REAL - 7 * DAY);
    const store = new FullDiskStore();
    const r = await clockRig(clock, undefined, store);
    try {
      await ingestTen(r, clock);
      clock.stepWall(7 * DAY);
      await r.tick();
      assert.deepEqual(store.shiftState(), { plan: null, queued: [] }, 'not stored yet');
      assert.equal(r.rows().length, 10, 'not swept while the rows are in the old frame');
      assert.match(String(r.logs.at(-1)?.msg), /could not be rebased/);
      await r.tick();
      assertTenShifted(r);
    } finally {
      await stopRig(r);
    }
  });

  it('a rebase of more records than a slice lets the event loop turn between slices, and moves every record once', async () => {
    let turns = 0;
    const at: number[] = [];
    class CountingStore extends MemoryStore {
      override shiftSome(maxRecords: number): ShiftPlan {
        at.push(turns);
        return super.shiftSome(maxRecords);
      }
    }
    const store = new CountingStore();
    const n = 2 * REBASE_SLICE_RECORDS + 1;
    const t0 = REAL - 7 * DAY;
    store.appendMany(Array.from({ length: n }, (_, i) => timedRecord('metrics', `r${i}`, t0 - i, t0 - i + DAY)));
    const clock = new ManualClock(t0);
    const r = await clockRig(clock, undefined, store);
    let ticking = true;
    const spin = (): void => {
      turns += 1;
      if (ticking) setImmediate(spin);
    };
    spin();
    try {
      clock.stepWall(7 * DAY);
      await r.tick();
      assert.equal(at.length, 3, 'three slices');
      assert.ok(at[0]! < at[1]! && at[1]! < at[2]!, `the loop ran other work between slices (turns at each: ${at.join(', ')})`);
      assert.equal(r.comp.service.lastClockStep?.shiftedRecords, n);
      assert.deepEqual(
        store.listRecords(null, n).map((x) => x.createdMs),
        Array.from({ length: n }, (_, i) => t0 - i + 7 * DAY),
      );
    } finally {
      ticking = false;
      await stopRig(r);
    }
  });

  it('while a rebase keeps failing, records still expire once their TTL has passed in either frame', async () => {
    class AlwaysFullStore extends MemoryStore {
      override shiftSome(): ShiftPlan {
        throw new Error('SQLITE_FULL (simulated)');
      }
    }
    const clock = new ManualClock(REAL - 7 * DAY);
    const r = await clockRig(clock, undefined, new AlwaysFullStore());
    try {
      await ingestTen(r, clock); // one a minute, TTL 24 h, stored with the clock 7 days behind
      clock.stepWall(7 * DAY);
      await r.tick();
      assert.equal(r.rows().length, 10, 'none swept on their old-frame times');
      clock.advance(23 * 60 * MIN);
      await r.tick();
      assert.equal(r.rows().length, 10, 'under 24 h old: kept');
      clock.advance(2 * 60 * MIN);
      await r.tick();
      assert.equal(r.rows().length, 0, 'over 24 h old by any frame: expired although the rebase never succeeded');
    } finally {
      await stopRig(r);
    }
  });

  it('a measurement time after now handed to the in-process API is stored as now', async () => {
    const clock = new ManualClock(REAL);
    const r = await clockRig(clock);
    try {
      await r.comp.service.appendBody('metrics', Buffer.from('a'), { createdMs: REAL + DAY });
      await r.comp.service.appendBody('metrics', Buffer.from('b'), { createdMs: REAL - MIN });
      assert.deepEqual(
        r.rows().map((x) => x.createdMs),
        [REAL, REAL - MIN],
      );
    } finally {
      await stopRig(r);
    }
  });

  it('a step within the threshold changes nothing; one beyond it moves the old rows by exactly that step', async () => {
    const clock = new ManualClock(REAL);
    const r = await clockRig(clock);
    try {
      await r.comp.service.appendBody('metrics', Buffer.from('a'));
      await r.tick();
      clock.stepWall(CLOCK_STEP_THRESHOLD_MS - 1_000);
      await r.tick();
      assert.deepEqual(
        r.rows().map((x) => [x.createdMs, x.expiresMs]),
        [[REAL, REAL + DAY]],
      );
      assert.equal(r.comp.service.lastClockStep, null);
      assert.doesNotMatch(await r.metrics(), /linkward_buffer_clock_steps_total\{/);
      clock.stepWall(CLOCK_STEP_THRESHOLD_MS + 1_000);
      await r.tick();
      assert.deepEqual(
        r.rows().map((x) => [x.createdMs, x.expiresMs]),
        [[REAL + CLOCK_STEP_THRESHOLD_MS + 1_000, REAL + DAY + CLOCK_STEP_THRESHOLD_MS + 1_000]],
      );
    } finally {
      await stopRig(r);
    }
  });

  for (const small of [0, 20_000])
    it(`a ${small / 1000}-s step seen at one check, then a 7-day one: a record stored between them is kept and moved by the big step alone`, async () => {
      const clock = new ManualClock(REAL - 7 * DAY - small);
      const r = await clockRig(clock);
      try {
        await r.tick();
        clock.stepWall(small); // under the threshold: not a step for the buffer
        await r.tick();
        clock.advance(15_000);
        await r.comp.service.appendBody('metrics', Buffer.from('b')); // real time REAL + 75 s
        clock.advance(5_000);
        clock.stepWall(7 * DAY);
        clock.advance(10_000);
        await r.comp.service.clockSettled();
        await r.tick(); // the sweep
        assert.deepEqual(
          r.rows().map((x) => x.createdMs),
          [REAL + 75_000],
          'not expired a week early (a summed step left it above the cutoff)',
        );
      } finally {
        await stopRig(r);
      }
    });

  it('steps that cancel in part (−29 s, then +58 s): a record stored between them ends within the threshold of its real time', async () => {
    const clock = new ManualClock(REAL);
    const r = await clockRig(clock);
    try {
      await r.tick();
      clock.stepWall(-29_000);
      await r.tick();
      clock.advance(1_000);
      await r.comp.service.appendBody('metrics', Buffer.from('b'));
      clock.advance(1_000);
      clock.stepWall(58_000);
      await r.tick();
      await r.tick();
      const [row] = r.rows();
      const real = REAL + 90_000; // its time in the clock's frame now
      assert.ok(row !== undefined && Math.abs(row.createdMs - real) < CLOCK_STEP_THRESHOLD_MS, `${row?.createdMs} vs ${real}`);
    } finally {
      await stopRig(r);
    }
  });

  it('a step read against a fractional monotonic clock (performance.now) moves rows by whole milliseconds, so stored times stay integers', async () => {
    const clock = new ManualClock(REAL - 7 * DAY);
    clock.advance(1_000.4);
    clock.stepWall(-0.4); // Date.now() is whole milliseconds; the monotonic clock is not
    const r = await clockRig(clock);
    try {
      await r.comp.service.appendBody('metrics', Buffer.from('a'));
      clock.advance(0.35);
      clock.stepWall(7 * DAY + 0.65); // the offset moves by a fraction too
      await r.tick();
      const [row] = r.rows();
      assert.ok(row !== undefined && Number.isInteger(row.createdMs) && Number.isInteger(row.expiresMs), `${row?.createdMs} ${row?.expiresMs}`);
      assert.equal(r.comp.service.lastClockStep?.deltaMs, 7 * DAY + 1, 'rounded to the millisecond');
    } finally {
      await stopRig(r);
    }
  });

  it('at open: no record created in the future, none expiring after now + its sink TTL (lowered TTLs too); TTL 0 sinks keep theirs', async () => {
    const store = new MemoryStore();
    const rec = timedRecord;
    store.appendMany([
      rec('metrics', 'ahead', REAL + 7 * DAY, REAL + 8 * DAY), // stored with the clock a week ahead
      rec('metrics', 'old-ttl', REAL - H, REAL - H + 7 * DAY), // stored when the sink's TTL was 7 days
      rec('metrics', 'fine', REAL - H, REAL + H),
      rec('keep', 'no-ttl', REAL + 7 * DAY, null),
      rec('keep', 'ttl-turned-off', REAL - H, REAL + 30 * DAY),
    ]);
    const clock = new ManualClock(REAL);
    const r = await clockRig(clock, [sink('metrics', 86_400), sink('keep', 0)], store);
    try {
      await r.comp.service.clockSettled(); // the clamp at open runs a slice at a time once the store is open
      assert.deepEqual(
        r.rows().map((x) => [Buffer.from(x.body).toString(), x.createdMs, x.expiresMs]),
        [
          ['ahead', REAL, REAL + DAY],
          ['old-ttl', REAL - H, REAL + DAY],
          ['fine', REAL - H, REAL + H],
          ['no-ttl', REAL, null],
          ['ttl-turned-off', REAL - H, REAL + 30 * DAY],
        ],
      );
      assert.match(await r.metrics(), /linkward_buffer_rebased_records_total\{action="created_clamped"\} 2\n/);
      assert.match(await r.metrics(), /linkward_buffer_rebased_records_total\{action="expiry_clamped"\} 2\n/);
    } finally {
      await stopRig(r);
    }
  });
});
