/** The event-loop delay monitor: fixed windows that readers cannot reset, real stalls show up in p99/max. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Clock, ManualClock } from '../../../agent/base/clock.ts';
import { DelayWindow, LOOP_RESOLUTION_MS, LOOP_WINDOW_MS, startLoopDelayMonitor } from '../../../agent/http/loop-delay.ts';

/** A ManualClock whose monotonic time runs `stalledMs` ahead: a tick then sees the loop as that much late. */
class StallingClock implements Clock {
  readonly manual = new ManualClock(0);
  stalledMs = 0;
  nowMs = (): number => this.manual.nowMs();
  monoMs = (): number => this.manual.monoMs() + this.stalledMs;
  sleep = (ms: number, signal?: AbortSignal): Promise<void> => this.manual.sleep(ms, signal);
  setTimer = (ms: number, fn: () => void): (() => void) => this.manual.setTimer(ms, fn);
  /** The loop was blocked for `ms`: the next tick comes that much later than its period. */
  stall(ms: number): void {
    this.stalledMs += ms;
  }
}

const STALL_MS = 150;

test('an idle loop reads the resolution; a stall appears in the current window, survives reads, rolls out two windows later', () => {
  const clock = new StallingClock();
  const mon = startLoopDelayMonitor(clock);
  try {
    clock.manual.advance(1_000);
    assert.deepEqual(mon.read(), { p99Ms: LOOP_RESOLUTION_MS, maxMs: LOOP_RESOLUTION_MS }, 'idle: every tick one period apart');
    clock.stall(STALL_MS);
    clock.manual.advance(LOOP_RESOLUTION_MS);
    const first = mon.read();
    assert.equal(first.maxMs, LOOP_RESOLUTION_MS + STALL_MS);
    assert.deepEqual(mon.read(), first, 'reading must not reset the window (several scrapers share it)');

    clock.manual.advance(LOOP_WINDOW_MS); // window 1 closes: its figures are now the reported ones
    assert.equal(mon.read().maxMs, LOOP_RESOLUTION_MS + STALL_MS);
    clock.manual.advance(LOOP_WINDOW_MS); // window 2 (no stall) closes
    assert.deepEqual(mon.read(), { p99Ms: LOOP_RESOLUTION_MS, maxMs: LOOP_RESOLUTION_MS }, 'the old stall is gone');
  } finally {
    mon.stop();
  }
});

test('p99 is the nearest-rank 99th percentile: 1 % of slow ticks sets it, fewer only set max', () => {
  const w = new DelayWindow(3_002);
  for (let i = 0; i < 990; i++) w.record(20);
  for (let i = 0; i < 10; i++) w.record(80 + i);
  assert.deepEqual(w.summary(), { p99Ms: 20, maxMs: 89 }, '10 of 1000 slow: the 990th value is still 20');
  w.record(95);
  assert.equal(w.summary().p99Ms, 80, '11 of 1001 slow: rank 991 is the first slow tick');
  w.reset();
  assert.deepEqual(w.summary(), { p99Ms: 0, maxMs: 0 });
});

test('a full window keeps counting the largest delay', () => {
  const w = new DelayWindow(3);
  for (const ms of [20, 20, 20, 500]) w.record(ms);
  assert.deepEqual(w.summary(), { p99Ms: 20, maxMs: 500 });
});

test('an empty window reports zeros, not NaN or sentinels; stop cancels every timer', () => {
  const clock = new ManualClock(0);
  const mon = startLoopDelayMonitor(clock);
  mon.stop();
  clock.advance(LOOP_WINDOW_MS);
  assert.deepEqual(mon.read(), { p99Ms: 0, maxMs: 0 });
});
