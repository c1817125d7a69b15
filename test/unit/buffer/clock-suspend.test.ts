/** A system suspend while buffering: records keep their times (the sleep counts toward age and TTL); only a step moves them. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type Clock, ManualClock } from '../../../agent/base/clock.ts';
import { clockRig, DAY, H, ingestTen, MIN, REAL, sink, stopRig } from '../../support/buffer-clock-rig.ts';

/** The ten records of ingestTen at the times they were stored (REAL + i min), with their expiry. */
const tenAt = (ttlMs: number, deltaMs = 0) => Array.from({ length: 10 }, (_, i) => [REAL + i * MIN + deltaMs, REAL + i * MIN + deltaMs + ttlMs]);

/** The ManualClock without the suspended reading: a build without the native addon. */
function withoutReading(c: ManualClock): Clock & { advance(ms: number): void } {
  return {
    nowMs: () => c.nowMs(),
    monoMs: () => c.monoMs(),
    setTimer: (ms, fn) => c.setTimer(ms, fn),
    sleep: (ms, signal) => c.sleep(ms, signal),
    advance: (ms) => c.advance(ms),
  };
}

describe('buffer across a system suspend', () => {
  it('an 8-h sleep is no clock step: records keep their times, and a 1-h TTL has run out on waking', async () => {
    const clock = new ManualClock(REAL);
    const r = await clockRig(clock, [sink('metrics', 3_600)], undefined, 'info');
    try {
      await ingestTen(r, clock);
      assert.deepEqual(
        r.rows().map((x) => [x.createdMs, x.expiresMs]),
        tenAt(H),
      );
      clock.suspend(8 * H); // ignition off overnight: the monotonic clock stands still
      await r.tick();
      await r.tick(); // the sweep after the check
      assert.equal(r.rows().length, 0, 'all 10 are over 8 h old: expired, not rebased to look 8 h younger');
      assert.match(await r.metrics(), /linkward_buffer_dropped_records_total\{sink="metrics",reason="ttl"\} 10\n/);
      assert.doesNotMatch(await r.metrics(), /linkward_buffer_clock_steps_total\{/);
      assert.equal(r.comp.service.lastClockStep, null);
      const line = r.logs.find((l) => l.msg === 'system was suspended; buffered records keep their times, so the sleep counts toward their age and TTL');
      assert.equal(line?.suspendMs, 8 * H);
    } finally {
      await stopRig(r);
    }
  });

  it('with a 24-h TTL the records are kept with their real times, so their age (backlog age) includes the sleep', async () => {
    const clock = new ManualClock(REAL);
    const r = await clockRig(clock);
    try {
      await ingestTen(r, clock);
      clock.suspend(8 * H);
      await r.tick();
      await r.tick();
      assert.deepEqual(
        r.rows().map((x) => [x.createdMs, x.expiresMs]),
        tenAt(DAY),
      );
      assert.equal(r.comp.service.lastClockStep, null);
    } finally {
      await stopRig(r);
    }
  });

  it('NTP stepping the clock on waking: the records move by the step alone, not by the sleep', async () => {
    const clock = new ManualClock(REAL - 7 * DAY); // no RTC set at boot: a week behind
    const r = await clockRig(clock);
    try {
      await ingestTen(r, clock);
      clock.suspend(8 * H);
      clock.stepWall(7 * DAY); // NTP on waking
      await r.tick();
      assert.deepEqual(
        r.rows().map((x) => [x.createdMs, x.expiresMs]),
        tenAt(DAY),
        'at their real ingest times',
      );
      assert.equal(r.comp.service.lastClockStep?.deltaMs, 7 * DAY);
      assert.match(await r.metrics(), /linkward_buffer_clock_steps_total\{direction="forward"\} 1\n/);
    } finally {
      await stopRig(r);
    }
  });

  it('without the suspended reading (no native addon) a sleep reads as a step and the records are rebased, as before', async () => {
    const base = new ManualClock(REAL);
    const clock = withoutReading(base);
    const r = await clockRig(base, undefined, undefined, 'warn', clock);
    try {
      await ingestTen(r, base);
      base.suspend(8 * H);
      await r.tick();
      assert.deepEqual(
        r.rows().map((x) => [x.createdMs, x.expiresMs]),
        tenAt(DAY, 8 * H),
      );
      assert.equal(r.comp.service.lastClockStep?.deltaMs, 8 * H);
    } finally {
      await stopRig(r);
    }
  });
});
