/** The throughput cron on the agent's clock: slots fire once each, a wall-clock step never replays skipped slots. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTask } from 'node-cron';
import { ManualClock } from '../../../agent/base/clock.ts';
import { silentLogger } from '../../../agent/base/log.ts';
import {
  CRON_MAX_LOOKBACK_SLOTS,
  CRON_MAX_WAKE_LOOKBACK_SLOTS,
  CRON_STEP_CHECK_MS,
  cronShape,
  SteppedCron,
  type CronMatcher,
} from '../../../probes/cron-schedule.ts';

const MIN = 60_000;
const H = 60 * MIN;
const YEAR = 365 * 86_400_000;
/** 09:00:00 local time: the crons below match local time, as node-cron does. */
const NINE = new Date(2026, 11, 5, 9, 0, 0).getTime();

/** A ManualClock whose next timer fires `lateMs` late once (a loop blocked by other work), and every one `driftMs` late. */
class LateClock extends ManualClock {
  lateMs = 0;
  driftMs = 0;
  override setTimer(ms: number, fn: () => void): () => void {
    const late = this.lateMs;
    this.lateMs = 0;
    return super.setTimer(ms + late + this.driftMs, fn);
  }
}

function rig(expression: string, startMs = NINE) {
  const clock = new LateClock(startMs);
  const task = createTask(expression, () => {});
  let destroyed = false;
  const matcher: CronMatcher = {
    match: (d) => task.match(d),
    destroy: () => {
      destroyed = true;
      return task.destroy();
    },
  };
  const fired: number[] = [];
  const cron = new SteppedCron(clock, silentLogger(), matcher, cronShape(expression), () => fired.push(clock.nowMs()));
  return { clock, cron, fired, destroyed: () => destroyed };
}

/** Advances in tick-sized steps, as the loop runs. */
function run(clock: ManualClock, ms: number): void {
  for (let t = 0; t < ms; t += CRON_STEP_CHECK_MS) clock.advance(CRON_STEP_CHECK_MS);
}

describe('throughput cron', () => {
  it('an hourly cron fires once per hour, within a tick of its slot, through node-cron’s own matcher', async () => {
    const r = rig('0 * * * *', NINE + 30 * MIN);
    r.cron.start();
    run(r.clock, 3 * H);
    const slots = [H, 2 * H, 3 * H];
    assert.equal(r.fired.length, 3);
    r.fired.forEach((t, i) => assert.ok(t - NINE >= slots[i]! && t - NINE < slots[i]! + CRON_STEP_CHECK_MS, `slot ${i} fired at +${t - NINE} ms`));
    await r.cron.stop();
    assert.ok(r.destroyed());
    run(r.clock, 2 * H);
    assert.equal(r.fired.length, 3, 'nothing after stop');
  });

  it('a six-field cron is matched per second', () => {
    assert.deepEqual(cronShape('*/10 * * * * *'), { slotMs: 1_000, fixedTime: false });
    assert.deepEqual(cronShape(' 0 * * * * '), { slotMs: 60_000, fixedTime: false });
    assert.deepEqual(cronShape('30 2 * * *'), { slotMs: 60_000, fixedTime: true });
    assert.deepEqual(cronShape('0 0,30 2 * * *'), { slotMs: 1_000, fixedTime: true });
    const r = rig('*/10 * * * * *');
    r.cron.start();
    run(r.clock, 30_000);
    assert.equal(r.fired.length, 3);
  });

  it('a forward step of 56 years (a box that booted at 1970, then NTP) replays nothing; the next slot in the new time fires', () => {
    const r = rig('* * * * *', NINE - 56 * YEAR);
    r.cron.start();
    run(r.clock, 30_000);
    r.clock.stepWall(56 * YEAR);
    run(r.clock, 2 * CRON_STEP_CHECK_MS);
    assert.equal(r.fired.length, 0, 'none of the ~29 million skipped slots replayed');
    assert.equal(r.cron.recreated, 1);
    run(r.clock, MIN);
    assert.equal(r.fired.length, 1);
  });

  it('a suspend is no step: the first tick after waking is late and runs a slot slept through once (a fresh figure on waking)', () => {
    const r = rig('0 * * * *', NINE + 30 * MIN);
    r.cron.start();
    run(r.clock, MIN);
    r.clock.suspend(8 * H); // 09:31 → 17:31, the monotonic clock and the timers stand still
    run(r.clock, 2 * CRON_STEP_CHECK_MS);
    assert.equal(r.fired.length, 1, 'one run for the 8 hourly slots slept through');
    assert.equal(r.cron.recreated, 0, 'not handled as a step');
    run(r.clock, 28 * MIN);
    assert.equal(r.fired.length, 1);
    run(r.clock, 2 * MIN);
    assert.equal(r.fired.length, 2, '18:00 as usual');
  });

  it('a daily fixed-time slot slept through (02:30 in an 8-h sleep from 22:00) runs once on waking, past the 120-slot look-back', () => {
    const r = rig('30 2 * * *', NINE + 13 * H); // 22:00
    r.cron.start();
    run(r.clock, MIN);
    r.clock.suspend(8 * H); // 22:01 → 06:01: 02:30 is 211 minute-slots back on waking
    run(r.clock, 2 * CRON_STEP_CHECK_MS);
    assert.equal(r.fired.length, 1, 'the slot slept through runs on waking');
    assert.equal(r.cron.recreated, 0);
    run(r.clock, 21 * H); // to 03:01
    assert.equal(r.fired.length, 2, 'and the next night’s 02:30 as usual, once');
  });

  it('a sleep longer than the wake look-back runs no slot older than it: a weekly slot 30 h back is not run', () => {
    const r = rig('0 3 * * 1', NINE); // Mondays 03:00; NINE is a Saturday
    assert.equal(new Date(NINE).getDay(), 6);
    r.cron.start();
    run(r.clock, MIN);
    r.clock.suspend(3 * 24 * H); // Sat 09:01 → Tue 09:01: Monday 03:00 is 30 h back
    assert.ok(30 * 60 > CRON_MAX_WAKE_LOOKBACK_SLOTS);
    run(r.clock, 2 * CRON_STEP_CHECK_MS);
    assert.equal(r.fired.length, 0);
  });

  it('a step in the last second before a slot (the race the old re-created node-cron task had): that slot runs once, none of the skipped year', () => {
    const r = rig('0 * * * *', NINE + H - 5_000);
    r.cron.start();
    run(r.clock, 4_000);
    r.clock.advance(500); // 09:59:59.5: between two ticks
    r.clock.stepWall(YEAR);
    run(r.clock, 3 * CRON_STEP_CHECK_MS);
    assert.equal(r.fired.length, 1, 'the old frame reached 10:00 before the tick');
    assert.equal(r.cron.recreated, 1);
    run(r.clock, 30 * MIN);
    assert.equal(r.fired.length, 1, 'none of the 8,760 hourly slots the step skipped');
  });

  it('a forward step of 2 s just after a slot passed still runs that slot', () => {
    const r = rig('0 10 * * *', NINE + H - 60_000 + 800);
    r.cron.start();
    run(r.clock, 59_000); // 09:59:59.8
    r.clock.advance(700); // 10:00:00.5 on the old frame: the slot has passed (and its tick too, 5 ms after it)
    r.clock.stepWall(2_000);
    run(r.clock, 5_000);
    assert.equal(r.fired.length, 1);
  });

  it('ticks that each run 1 ms late still run every per-second slot once', () => {
    const r = rig('* * * * * *', NINE + 500);
    r.clock.driftMs = 1;
    r.cron.start();
    r.clock.advance(2_000_000);
    const slots = Math.floor((r.clock.nowMs() - NINE) / 1000);
    assert.equal(r.fired.length, slots, `${r.fired.length} runs for ${slots} slots`);
  });

  it('a tick that comes late runs the slots it missed once, and looks back at most CRON_MAX_LOOKBACK_SLOTS', () => {
    const r = rig('* * * * *');
    r.clock.lateMs = 10 * MIN; // the loop is blocked across ten slots before the first tick
    r.cron.start();
    run(r.clock, 10 * MIN + CRON_STEP_CHECK_MS);
    assert.equal(r.fired.length, 1, 'ten missed slots run once');
    const daily = rig('0 9 * * *', NINE - 5 * MIN);
    daily.clock.lateMs = (CRON_MAX_LOOKBACK_SLOTS + 60) * MIN; // 09:00 is then 175 min back, beyond the look-back
    daily.cron.start();
    run(daily.clock, (CRON_MAX_LOOKBACK_SLOTS + 60) * MIN + CRON_STEP_CHECK_MS);
    assert.equal(daily.fired.length, 0, 'a slot older than the look-back is not replayed');
  });

  it('a backward step: a wildcard-hour cron runs by the clock as it reads (10:00 again); a fixed-time one does not run twice within 3 h', () => {
    const hourly = rig('0 * * * *', NINE + H - 2_000);
    const daily = rig('0 10 * * *', NINE + H - 2_000);
    for (const r of [hourly, daily]) {
      r.cron.start();
      run(r.clock, 3_000);
      assert.equal(r.fired.length, 1);
      r.clock.stepWall(-10 * MIN);
      run(r.clock, 11 * MIN);
    }
    assert.equal(hourly.fired.length, 2, '10:00 came round again on the wall clock');
    assert.equal(daily.fired.length, 1, 'the 10:00 job ran already');
  });
});
