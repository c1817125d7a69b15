/** The throughput cron across daylight-saving changes (Europe/Berlin): a fixed-time slot runs once when an hour repeats. */
process.env.TZ = 'Europe/Berlin'; // before any Date is made: node-cron matches local time
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTask } from 'node-cron';
import { ManualClock } from '../../../agent/base/clock.ts';
import { silentLogger } from '../../../agent/base/log.ts';
import { cronShape, SteppedCron } from '../../../probes/cron-schedule.ts';

const H = 3_600_000;

/** Runs `expression` for `ms` from `startMs` in 1-s steps; returns the local times it ran at. */
function runs(expression: string, startMs: number, ms: number): string[] {
  const clock = new ManualClock(startMs);
  const task = createTask(expression, () => {});
  const fired: string[] = [];
  const cron = new SteppedCron(clock, silentLogger(), task, cronShape(expression), () => fired.push(new Date(clock.nowMs()).toTimeString().slice(0, 8)));
  cron.start();
  for (let t = 0; t < ms; t += 1_000) clock.advance(1_000);
  void cron.stop();
  return fired;
}

test('the time zone is in effect', () => {
  assert.equal(new Date(Date.UTC(2026, 9, 25, 0, 30)).getHours(), 2, '00:30 UTC is 02:30 CEST');
});

test('fall back (25 Oct 2026, 03:00 CEST → 02:00 CET): "30 2 * * *" runs once though 02:30 comes twice', () => {
  assert.deepEqual(runs('30 2 * * *', Date.UTC(2026, 9, 24, 20), 12 * H), ['02:30:00']);
});

test('fall back: wildcard-hour crons run by the clock as it reads, the repeated hour included (the default hourly cron: every real hour)', () => {
  assert.deepEqual(runs('*/30 * * * *', Date.UTC(2026, 9, 24, 23, 10), 3 * H), ['01:30:00', '02:00:00', '02:30:00', '02:00:00', '02:30:00', '03:00:00']);
  assert.equal(runs('0 * * * *', Date.UTC(2026, 9, 24, 22, 30), 6 * H).length, 6);
});

test('spring forward (29 Mar 2026, 02:00 CET → 03:00 CEST): "30 2 * * *" has no 02:30 that day and does not run, as node-cron did', () => {
  assert.deepEqual(runs('30 2 * * *', Date.UTC(2026, 2, 28, 20), 12 * H), []);
});
