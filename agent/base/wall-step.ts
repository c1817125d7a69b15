/** Notices steps of the wall clock (NTP correcting a clock that was off, `date -s`) by comparing it with the monotonic one. */
import type { Clock } from './clock.ts';

/**
 * A change of (wall − monotonic) larger than this between two readings is a step. NTP's slew moves it by at most
 * 0.5 ms per second and reading both clocks back to back under a busy CPU by a few ms; 1 s is far above both, and a
 * step it misses shifts a duration by under a second.
 */
export const WALL_STEP_MS = 1_000;

/**
 * Components whose pure state holds wall-clock times (dwell starts, holds, switch times) take() the step at each
 * evaluation and move those times by it, so every duration they measure stays what it was: without that, a clock
 * stepped back by a day made every "healthy for" negative (no failback for a day) and one stepped forward satisfied
 * every dwell and hold at once.
 */
export class WallStepWatch {
  readonly #clock: Pick<Clock, 'nowMs' | 'monoMs'>;
  #offset: number;

  constructor(clock: Pick<Clock, 'nowMs' | 'monoMs'>) {
    this.#clock = clock;
    this.#offset = clock.nowMs() - clock.monoMs();
  }

  /** The wall clock's step since the last call (new − old, ms), or 0 when it did not step. */
  take(): number {
    const offset = this.#clock.nowMs() - this.#clock.monoMs();
    const step = offset - this.#offset;
    if (Math.abs(step) <= WALL_STEP_MS) return 0;
    this.#offset = offset;
    return step;
  }
}
