/** Notices steps of the wall clock (NTP correcting a clock that was off, `date -s`) and suspends, against the monotonic clock. */
import type { Clock } from './clock.ts';

/**
 * A change of (wall − monotonic) larger than this between two readings is a step. NTP's slew moves it by at most
 * 0.5 ms per second and reading both clocks back to back under a busy CPU by a few ms; 1 s is far above both, and a
 * step it misses shifts a duration by under a second.
 */
export const WALL_STEP_MS = 1_000;

/**
 * Time suspended since the last reading below this is not reported: a reading pair taken under a busy CPU differs by
 * far less, and a shorter sleep moves every duration by under a second.
 */
export const SUSPEND_MIN_MS = 1_000;

/** What happened to the clocks since the last take(), in ms; 0 when nothing did. */
export interface ClockJump {
  /** The wall clock's own step (new − old): NTP or `date -s`, the part of the wall clock's move a suspend does not explain. */
  stepMs: number;
  /** How long the system slept (the monotonic clock stood still meanwhile; the wall clock went on). */
  suspendMs: number;
}

/**
 * Components whose pure state holds wall-clock times (dwell starts, holds, switch times) take() the clocks' jumps at
 * each evaluation and move those times by them, so every duration they measure stays what it was: without that, a
 * clock stepped back by a day made every "healthy for" negative (no failback for a day) and one stepped forward
 * satisfied every dwell and hold at once. A suspend moves the wall clock against the monotonic one as a forward step
 * does, but it is time that really passed: where the clock can tell (Clock.suspendedMs), it is reported apart, so a
 * caller can let figures measured before the sleep age by it while dwells and holds count awake time only.
 */
export class WallStepWatch {
  readonly #clock: Pick<Clock, 'nowMs' | 'monoMs' | 'suspendedMs'>;
  #offset: number;
  #suspended: number | null;

  constructor(clock: Pick<Clock, 'nowMs' | 'monoMs' | 'suspendedMs'>) {
    this.#clock = clock;
    this.#suspended = clock.suspendedMs?.() ?? null;
    this.#offset = clock.nowMs() - clock.monoMs();
  }

  /** The clocks' jumps since the last report of each. */
  take(): ClockJump {
    const suspended = this.#clock.suspendedMs?.() ?? null;
    const offset = this.#clock.nowMs() - this.#clock.monoMs();
    let suspendMs = 0;
    if (suspended !== null && this.#suspended !== null) {
      const slept = suspended - this.#suspended;
      if (slept < 0)
        this.#suspended = suspended; // cannot shrink; a reading that does is a new baseline, never a step
      else if (slept > SUSPEND_MIN_MS) {
        suspendMs = slept;
        this.#suspended = suspended;
        // the wall clock went on while the monotonic one stood still: that much of its move is no step
        this.#offset += slept;
      }
    } else if (suspended !== null) this.#suspended = suspended; // first good reading: the baseline
    const step = offset - this.#offset;
    if (Math.abs(step) <= WALL_STEP_MS) return { stepMs: 0, suspendMs };
    this.#offset = offset;
    return { stepMs: step, suspendMs };
  }
}
