/** The process's one event-loop delay monitor: p99 and max over fixed windows, read by /metrics and /v1/status. */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Clock } from '../base/clock.ts';

/** Sampling resolution; 20 ms costs nothing measurable and still catches real stalls. */
export const LOOP_RESOLUTION_MS = 20;
/**
 * Length of one reporting window. Fixed windows, not reset-on-read: two readers (Prometheus and a fleet
 * manager, or /metrics and /v1/status) must not steal each other's samples, and 60 s matches common scrape intervals.
 */
export const LOOP_WINDOW_MS = 60_000;

export interface LoopDelayWindow {
  /** 99th percentile delay in ms over the last complete window (the current one until the first completes). */
  p99Ms: number;
  /** Largest delay in ms over the same window. */
  maxMs: number;
}

export interface LoopDelayMonitor {
  read(): LoopDelayWindow;
  stop(): void;
}

const NS_PER_MS = 1e6;

function snapshot(h: ReturnType<typeof monitorEventLoopDelay>): LoopDelayWindow {
  // An empty histogram reports NaN/huge sentinels; report 0 until a sample exists.
  if (h.count === 0) return { p99Ms: 0, maxMs: 0 };
  return { p99Ms: Math.round((h.percentile(99) / NS_PER_MS) * 100) / 100, maxMs: Math.round((h.max / NS_PER_MS) * 100) / 100 };
}

/** Starts sampling; windows roll on `clock` timers (the only time source). */
export function startLoopDelayMonitor(clock: Clock, windowMs: number = LOOP_WINDOW_MS): LoopDelayMonitor {
  const h = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  h.enable();
  let last: LoopDelayWindow | null = null;
  let cancel = (): void => {};
  const roll = (): void => {
    last = snapshot(h);
    h.reset();
    cancel = clock.setTimer(windowMs, roll);
  };
  cancel = clock.setTimer(windowMs, roll);
  return {
    read: () => last ?? snapshot(h),
    stop: () => {
      cancel();
      h.disable();
    },
  };
}
