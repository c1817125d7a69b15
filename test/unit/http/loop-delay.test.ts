/** The event-loop delay monitor: fixed windows that readers cannot reset, real stalls show up in p99/max. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ManualClock } from '../../../agent/base/clock.ts';
import { LOOP_WINDOW_MS, startLoopDelayMonitor } from '../../../agent/http/loop-delay.ts';

/** A stall long enough to dominate p99 at the 20 ms sampling resolution, short enough for a unit test. */
const STALL_MS = 150;

function blockFor(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* deliberately block the event loop */
  }
}

test('a stall appears in the current window, survives repeated reads, and rolls out two windows later', async () => {
  const clock = new ManualClock(0);
  const mon = startLoopDelayMonitor(clock);
  try {
    await sleep(60);
    blockFor(STALL_MS);
    await sleep(60); // let the sampling timer observe the late tick
    const first = mon.read();
    assert.ok(first.maxMs >= STALL_MS * 0.6, `max ${first.maxMs} ms should reflect a ${STALL_MS} ms stall`);
    assert.deepEqual(mon.read(), first, 'reading must not reset the window (several scrapers share it)');

    clock.advance(LOOP_WINDOW_MS); // window 1 closes: its figures are now the reported ones
    assert.ok(mon.read().maxMs >= STALL_MS * 0.6);
    await sleep(60);
    clock.advance(LOOP_WINDOW_MS); // window 2 (no stall) closes
    const quiet = mon.read();
    assert.ok(quiet.maxMs < STALL_MS * 0.6, `quiet window max ${quiet.maxMs} ms should not carry the old stall`);
  } finally {
    mon.stop();
  }
});

test('an empty window reports zeros, not NaN or sentinels', () => {
  const clock = new ManualClock(0);
  const mon = startLoopDelayMonitor(clock);
  clock.advance(LOOP_WINDOW_MS);
  assert.deepEqual(mon.read(), { p99Ms: 0, maxMs: 0 });
  mon.stop();
});
