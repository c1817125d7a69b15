/** The malloc trimmer: its period, what it counts, stopping, musl (no malloc_trim) and the environment switch. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { ManualClock } from '../../../agent/base/clock.ts';
import { mallocTrimEnabled, registerMallocTrimMetrics, startMallocTrim, TRIM_PERIOD_MS } from '../../../agent/runtime/malloc-trim.ts';

test('trims once per period and counts the calls that released memory', () => {
  const clock = new ManualClock();
  const results = [1, 0, 1];
  let calls = 0;
  const trimmer = startMallocTrim(clock, () => results[calls++ % results.length] ?? 0);
  clock.advance(TRIM_PERIOD_MS - 1);
  assert.equal(calls, 0, 'nothing before the first period has passed');
  clock.advance(1);
  assert.equal(calls, 1);
  clock.advance(2 * TRIM_PERIOD_MS);
  assert.equal(calls, 3);
  assert.deepEqual(trimmer.stats(), { calls: 3, released: 2, busyMs: 0 });
  trimmer.stop();
  clock.advance(10 * TRIM_PERIOD_MS);
  assert.equal(calls, 3, 'no trim after stop()');
});

test('a C library without malloc_trim (negative result) stops the timer for good and counts nothing', () => {
  const clock = new ManualClock();
  let calls = 0;
  const trimmer = startMallocTrim(clock, () => {
    calls++;
    return -1;
  });
  clock.advance(5 * TRIM_PERIOD_MS);
  assert.equal(calls, 1);
  assert.equal(trimmer.stats().calls, 0);
});

test('the metrics read the trimmer at scrape time', async () => {
  const clock = new ManualClock();
  const trimmer = startMallocTrim(clock, () => 1, 100);
  const registry = new Registry();
  registerMallocTrimMetrics(registry, trimmer);
  clock.advance(300);
  const text = await registry.metrics();
  assert.match(text, /^linkward_malloc_trim_total\{result="released"\} 3$/m);
  assert.match(text, /^linkward_malloc_trim_total\{result="none"\} 0$/m);
  assert.match(text, /^linkward_malloc_trim_seconds_total 0$/m);
  trimmer.stop();
});

test('LINKWARD_MALLOC_TRIM=off is the only value that disables it', () => {
  assert.equal(mallocTrimEnabled({}), true);
  assert.equal(mallocTrimEnabled({ LINKWARD_MALLOC_TRIM: 'on' }), true);
  assert.equal(mallocTrimEnabled({ LINKWARD_MALLOC_TRIM: 'off' }), false);
});
