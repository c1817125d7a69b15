/** The throughput cron on real time: node-cron's matcher and the agent's 1-s tick fire each slot once, and stop. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTask } from 'node-cron';
import { systemClock } from '../../../agent/base/clock.ts';
import { silentLogger } from '../../../agent/base/log.ts';
import { cronShape, SteppedCron } from '../../../probes/cron-schedule.ts';

test('a per-second cron fires once per slot and nothing after stop', async () => {
  const expression = '* * * * * *';
  const task = createTask(expression, () => {});
  const fired: number[] = [];
  const cron = new SteppedCron(systemClock, silentLogger(), task, cronShape(expression), () => fired.push(Date.now()));
  cron.start();
  await new Promise((resolve) => setTimeout(resolve, 4_500));
  await cron.stop();
  const count = fired.length;
  assert.ok(count >= 2 && count <= 5, `${count} slots fired in 4.5 s (a tick late by over a second runs two slots once)`);
  for (let i = 1; i < fired.length; i++) assert.notEqual(Math.floor(fired[i]! / 1000), Math.floor(fired[i - 1]! / 1000), 'one run per second');
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  assert.equal(fired.length, count, 'nothing after stop');
});
