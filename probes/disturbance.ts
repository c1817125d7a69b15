/** Knows when the agent's own measurements were disturbed: event-loop stalls (CPU starvation), start-up warm-up, clock steps. */
import { WALL_STEP_MS } from '../agent/base/wall-step.ts';
import type { Clock } from '../agent/base/clock.ts';
import type { VoidReason } from '../agent/core/types.ts';

/**
 * Sentinel tick while a measurement is in flight. 10 ms resolves a stall well below the 50 ms that matters, and the
 * sentinel runs only while probes are in flight (a light round lasts tens of ms), so idle CPU does not grow.
 */
export const SENTINEL_MS = 10;
/**
 * Loop lateness that disturbs a light probe: a reply read 50 ms late adds 50 ms to its RTT (a fifth of the 250 ms
 * degraded threshold) or turns an in-time reply into a late one. Measured on the 2-core VM with a busy loop per core at
 * the agent's nice level: p99 lateness 2.7–4 ms, max 5 ms; an agent starved by heavier load lags by seconds.
 */
export const DISTURBED_LAG_MS = 50;
/** Lateness that disturbs a throughput test: its chunks are processed in bursts, so only a stall this long distorts a rate. */
export const THROUGHPUT_DISTURBED_LAG_MS = 100;
/** Wall clock moved this much more (or less) than the monotonic clock: a clock step (the link and route's threshold too). */
export const CLOCK_STEP_MS = WALL_STEP_MS;
/** After start this long every measurement is warm-up: module loading, JIT and the first requests compete for the CPU. */
export const WARMUP_MS = 10_000;
/** Stalls remembered (oldest dropped): enough for every probe in flight at once. */
const MAX_STALLS = 64;

/** A span of monotonic time during which the event loop could not run (the sentinel fired late by `lagMs`). */
export interface Stall {
  fromMono: number;
  toMono: number;
  lagMs: number;
}

/** Opened when a measurement starts; pass it to `end()`. */
export interface WatchWindow {
  startMono: number;
  /** nowMs − monoMs at the start: a change by more than CLOCK_STEP_MS means the wall clock stepped. */
  offsetMs: number;
}

export interface Disturbance {
  reason: VoidReason;
  /** Longest loop lateness seen inside the window (ms). */
  maxLagMs: number;
  detail: string;
}

/**
 * How long this uplink's own speed test may have moved no byte before a light round and still count as loading the
 * link: 500 ms, a few RTTs of any link the agent measures. A test stuck on a dead far side moves nothing, so the
 * rounds beside it measure the idle link and must count: voiding them hid a cut for the test's whole timeout.
 */
export const SPEEDTEST_IDLE_MS = 500;

/** Whether a light round measured the queue of this uplink's own speed test (then it is set aside). Pure. */
export function overlapsLoadingTest(testRunning: boolean, testMovedAtMono: number, roundStartMono: number): boolean {
  return testRunning && testMovedAtMono >= roundStartMono - SPEEDTEST_IDLE_MS;
}

/** Longest stall overlapping [from, to] (0 when none). Pure. */
export function maxLagWithin(stalls: readonly Stall[], fromMono: number, toMono: number): number {
  let max = 0;
  for (const s of stalls) if (s.toMono > fromMono && s.fromMono < toMono && s.lagMs > max) max = s.lagMs;
  return max;
}

/** Reference-counted sentinel: runs only while at least one window is open. Only the clock touches time. */
export class DisturbanceWatch {
  readonly #clock: Clock;
  readonly #startedMono: number;
  #stalls: Stall[] = [];
  #open = 0;
  #cancel: (() => void) | null = null;
  #expectedMono = 0;

  constructor(clock: Clock) {
    this.#clock = clock;
    this.#startedMono = clock.monoMs();
  }

  #arm(): void {
    this.#expectedMono = this.#clock.monoMs() + SENTINEL_MS;
    this.#cancel = this.#clock.setTimer(SENTINEL_MS, () => {
      this.#observe();
      if (this.#open > 0) this.#arm();
      else this.#cancel = null;
    });
  }

  /** Records the sentinel's lateness up to now as a stall when it exceeds the smallest limit that matters. */
  #observe(): void {
    const now = this.#clock.monoMs();
    const lag = now - this.#expectedMono;
    if (lag > DISTURBED_LAG_MS) {
      this.#stalls.push({ fromMono: this.#expectedMono, toMono: now, lagMs: lag });
      if (this.#stalls.length > MAX_STALLS) this.#stalls = this.#stalls.slice(-MAX_STALLS);
    }
  }

  /** Wall-clock time (ms since epoch) when start-up warm-up ends: throughput tests before it count only as lower bounds. */
  warmupEndsAtMs(): number {
    return this.#clock.nowMs() + Math.max(0, this.#startedMono + WARMUP_MS - this.#clock.monoMs());
  }

  /** Opens a window (starts the sentinel if it is not running). */
  begin(): WatchWindow {
    this.#open++;
    if (!this.#cancel) this.#arm();
    return { startMono: this.#clock.monoMs(), offsetMs: this.#clock.nowMs() - this.#clock.monoMs() };
  }

  /**
   * Closes a window: the disturbance that voids a measurement taken in it, or null when the agent can vouch for it.
   * `lagLimitMs` is DISTURBED_LAG_MS for light probes, THROUGHPUT_DISTURBED_LAG_MS for throughput tests. `warmup`:
   * whether start-up voids the measurement by itself (throughput tests: a CPU-heavy start reads a link low; light rounds
   * are judged by the stalls actually seen, so the first verdict still comes within one round).
   */
  end(w: WatchWindow, lagLimitMs = DISTURBED_LAG_MS, warmup = false): Disturbance | null {
    const now = this.#clock.monoMs();
    // a stall still in progress (the sentinel is overdue right now) counts too
    if (this.#cancel && now - this.#expectedMono > DISTURBED_LAG_MS) this.#observe();
    this.#open = Math.max(0, this.#open - 1);
    if (this.#open === 0 && this.#cancel) {
      this.#cancel();
      this.#cancel = null;
    }
    const step = this.#clock.nowMs() - now - w.offsetMs;
    if (Math.abs(step) > CLOCK_STEP_MS)
      return { reason: 'clock_step', maxLagMs: 0, detail: `wall clock stepped by ${Math.round(step)} ms during the measurement` };
    const lag = maxLagWithin(this.#stalls, w.startMono, now);
    if (lag > lagLimitMs)
      return { reason: 'starved', maxLagMs: lag, detail: `agent starved of CPU: event loop ${Math.round(lag)} ms late during the measurement` };
    if (warmup && w.startMono - this.#startedMono < WARMUP_MS)
      return { reason: 'warmup', maxLagMs: lag, detail: `measured during start-up (first ${WARMUP_MS / 1000} s)` };
    return null;
  }
}
