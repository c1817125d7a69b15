/** The throughput cron is re-created from the new time when the wall clock steps, never left to replay skipped slots. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../agent/base/clock.ts';
import { silentLogger } from '../../../agent/base/log.ts';
import { CRON_STEP_CHECK_MS, SteppedCron } from '../../../probes/cron-schedule.ts';

const YEAR = 365 * 86_400_000;

function rig() {
  const clock = new ManualClock(0);
  const tasks: { destroyed: boolean }[] = [];
  const cron = new SteppedCron(clock, silentLogger(), () => {
    const t = { destroyed: false, destroy: () => void (t.destroyed = true) };
    tasks.push(t);
    return t;
  });
  return { clock, tasks, cron };
}

test('a step of the wall clock (either way) destroys the task and schedules a new one; time alone does not', async () => {
  const r = rig();
  r.cron.start();
  assert.equal(r.tasks.length, 1);
  r.clock.advance(10 * CRON_STEP_CHECK_MS);
  assert.equal(r.tasks.length, 1, 'no step: the same task');
  r.clock.stepWall(56 * YEAR); // a box that booted at 1970, then NTP
  r.clock.advance(CRON_STEP_CHECK_MS);
  assert.deepEqual(
    r.tasks.map((t) => t.destroyed),
    [true, false],
  );
  r.clock.stepWall(-3_600_000);
  r.clock.advance(CRON_STEP_CHECK_MS);
  assert.equal(r.tasks.length, 3);
  assert.equal(r.cron.recreated, 2);
  await r.cron.stop();
  assert.ok(
    r.tasks.every((t) => t.destroyed),
    'stop destroys the live task',
  );
  r.clock.stepWall(YEAR);
  r.clock.advance(10 * CRON_STEP_CHECK_MS);
  assert.equal(r.tasks.length, 3, 'nothing after stop');
});
