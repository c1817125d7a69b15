/** The system clock's suspended-time reading through the native addon (CLOCK_BOOTTIME − CLOCK_MONOTONIC) on this machine. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { systemClock } from '../../../agent/base/clock.ts';
import { nativeAddon } from '../../../agent/base/native-addon.ts';
import { WallStepWatch } from '../../../agent/base/wall-step.ts';

test('suspendedMs reads a steady total that /proc/uptime agrees with (the addon is built in CI)', (t) => {
  const fn = nativeAddon()?.suspendedMs;
  if (!fn) {
    if (process.env.CI) assert.fail('CI builds agent/native (scripts/setup-runtime.mjs): suspendedMs must be there');
    return t.skip('native addon with suspendedMs not built');
  }
  const a = systemClock.suspendedMs?.();
  const b = systemClock.suspendedMs?.();
  assert.ok(typeof a === 'number' && typeof b === 'number', `readings ${a} ${b}`);
  assert.ok(a > -1 && b > -1, 'no time namespace here: boot − mono is the time suspended (the midpoint of two reads may round below 0)');
  assert.ok(Math.abs(b - a) < 1, `the total moves only while the system sleeps: ${a} then ${b}`);
  // /proc/uptime is CLOCK_BOOTTIME in 10 ms steps (where lxcfs does not serve it): boot time ≥ the suspended total
  const uptimeMs = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1000;
  if (uptimeMs > 0) assert.ok(b <= uptimeMs + 10, `suspended ${b} ms within the ${uptimeMs} ms since boot`);
});

test('on the real clocks a WallStepWatch reports no jump while nothing happens', async () => {
  const w = new WallStepWatch(systemClock);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(w.take(), { stepMs: 0, suspendMs: 0 });
});
