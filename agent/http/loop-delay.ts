/** The process's one event-loop delay monitor: p99 and max over fixed windows, read by /metrics and /v1/status. */
import type { Clock } from '../base/clock.ts';

/** Sampling period; 20 ms costs nothing measurable and still catches real stalls. */
export const LOOP_RESOLUTION_MS = 20;
/**
 * Length of one reporting window. Fixed windows, not reset-on-read: two readers (Prometheus and a fleet
 * manager, or /metrics and /v1/status) must not steal each other's samples, and 60 s matches common scrape intervals.
 */
export const LOOP_WINDOW_MS = 60_000;
/** Round reported figures to 0.01 ms: finer digits are timer noise. */
const ROUND_MS = 100;

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

const round = (ms: number): number => Math.round(ms * ROUND_MS) / ROUND_MS;

/**
 * One window's samples. A sample is the time between two sampling ticks, as Node's monitorEventLoopDelay records it
 * (so an idle loop reads about the resolution, and a stall adds its length). Kept as plain numbers: Node's histogram
 * allocates a 368 KB HDR table for the process's life (heaptrack of the idle daemon), for 3,000 samples a minute.
 */
export class DelayWindow {
  readonly #samples: Float64Array;
  #n = 0;
  #max = 0;

  /** `capacity`: most samples one window can take (ticks are at least one resolution apart). */
  constructor(capacity: number) {
    this.#samples = new Float64Array(capacity);
  }

  record(ms: number): void {
    if (ms > this.#max) this.#max = ms;
    // A window can hold one tick more than windowMs / resolution when the timers interleave; later ones only count in max.
    if (this.#n < this.#samples.length) this.#samples[this.#n++] = ms;
  }

  /** p99 (nearest rank) and max; zeros for an empty window, never NaN. */
  summary(): LoopDelayWindow {
    if (this.#n === 0) return { p99Ms: 0, maxMs: 0 };
    const sorted = this.#samples.slice(0, this.#n).sort();
    return { p99Ms: round(sorted[Math.ceil(0.99 * this.#n) - 1] ?? 0), maxMs: round(this.#max) };
  }

  reset(): void {
    this.#n = 0;
    this.#max = 0;
  }
}

/** Starts sampling on `clock` timers (the only time source); windows roll every `windowMs`. */
export function startLoopDelayMonitor(clock: Clock, windowMs: number = LOOP_WINDOW_MS): LoopDelayMonitor {
  const window = new DelayWindow(Math.ceil(windowMs / LOOP_RESOLUTION_MS) + 2);
  let last: LoopDelayWindow | null = null;
  let prev = clock.monoMs();
  let cancelTick = (): void => {};
  const tick = (): void => {
    const now = clock.monoMs();
    window.record(now - prev);
    prev = now;
    cancelTick = clock.setTimer(LOOP_RESOLUTION_MS, tick);
  };
  let cancelRoll = (): void => {};
  const roll = (): void => {
    last = window.summary();
    window.reset();
    cancelRoll = clock.setTimer(windowMs, roll);
  };
  cancelTick = clock.setTimer(LOOP_RESOLUTION_MS, tick);
  cancelRoll = clock.setTimer(windowMs, roll);
  return {
    read: () => last ?? window.summary(),
    stop: () => {
      cancelTick();
      cancelRoll();
    },
  };
}
