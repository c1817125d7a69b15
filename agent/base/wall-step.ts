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
/** Reads of the clocks per take() when a sleep falls between them (it is over after the first). */
const READ_TRIES = 3;

/** What happened to the clocks since the last take(), in ms; 0 when nothing did. */
export interface ClockJump {
  /** The wall clock's own step (new − old): NTP or `date -s`, the part of the wall clock's move a suspend does not explain. */
  stepMs: number;
  /** How long the system slept (the monotonic clock stood still meanwhile; the wall clock went on). */
  suspendMs: number;
}

/**
 * How far held wall-clock times (dwell starts, holds, figure times) move after a jump: by a step and a sleep alike, so
 * they count awake time. A figure measured before a sleep then keeps holding its uplink until re-measured instead of
 * expiring on waking and letting it flap healthy and back (the throughput cron re-measures on waking).
 */
export function heldShiftMs(j: ClockJump): number {
  return j.stepMs + j.suspendMs;
}

/**
 * Components whose pure state holds wall-clock times (dwell starts, holds, switch times) take() the clocks' jumps at
 * each evaluation and move those times by them, so every duration they measure stays what it was: without that, a
 * clock stepped back by a day made every "healthy for" negative (no failback for a day) and one stepped forward
 * satisfied every dwell and hold at once. A suspend moves the wall clock against the monotonic one as a forward step
 * does; where the clock can tell (Clock.suspendedMs) it is reported apart, so a caller can tell the two (the throughput
 * cron runs a slot slept through; a step skips slots).
 */
export class WallStepWatch {
  readonly #clock: Pick<Clock, 'nowMs' | 'monoMs' | 'suspendedMs'>;
  /** wall − monotonic the last step was measured against, with every sleep since folded in. */
  #offset: number;
  /** The suspended total last read; null: no baseline (unreadable), the next good reading is one. */
  #suspended: number | null;
  /** Sleep folded into the offset but not yet reported (each below SUSPEND_MIN_MS). */
  #unreported = 0;
  /** A move of the offset up to this is no step (WALL_STEP_MS unless the caller needs a coarser one). */
  readonly #stepMinMs: number;
  /** Smaller moves are forgotten at each take() instead of adding up (see the constructor). */
  readonly #forgetSmall: boolean;

  /**
   * `stepMinMs`: the smallest step reported. Smaller moves add up until together they pass it, which suits callers that
   * move every held time by the same amount (link, route). `forgetSmall`: each take() measures from the last one
   * instead, for a caller that sorts what it holds by time at a cutoff (the buffer's rebase): a sum of steps made at
   * different times has no single cutoff, and records stored between them would be left in the wrong frame.
   */
  constructor(clock: Pick<Clock, 'nowMs' | 'monoMs' | 'suspendedMs'>, opts: { stepMinMs?: number; forgetSmall?: boolean } = {}) {
    this.#clock = clock;
    this.#stepMinMs = opts.stepMinMs ?? WALL_STEP_MS;
    this.#forgetSmall = opts.forgetSmall === true;
    const r = this.#read();
    this.#suspended = r.straddled ? null : r.after;
    this.#offset = r.offset;
  }

  /**
   * wall − monotonic with the suspended total read on both sides of it. A sleep between the reads leaves unclear which
   * side of the pair it fell on; it is over by then, so the pair is read again (READ_TRIES in all). Still unclear: the
   * caller drops the baseline and the sleep reads as a step, at once (never later, after decisions on unshifted times).
   */
  #read(): { before: number | null; offset: number; after: number | null; straddled: boolean } {
    for (let i = 1; ; i++) {
      const before = this.#clock.suspendedMs?.() ?? null;
      const offset = this.#clock.nowMs() - this.#clock.monoMs();
      const after = this.#clock.suspendedMs?.() ?? null;
      const straddled = before !== null && after !== null && after - before > SUSPEND_MIN_MS;
      if (!straddled || i >= READ_TRIES) return { before, offset, after, straddled };
    }
  }

  /** The clocks' jumps since the last report of each. */
  take(): ClockJump {
    const { before, offset, after, straddled } = this.#read();
    if (after === null || before === null || straddled || (this.#suspended !== null && after < this.#suspended - SUSPEND_MIN_MS))
      this.#suspended = null; // unreadable, unclear or shrunk (a faulty source): a sleep reads as a step until a baseline
    else if (this.#suspended === null)
      this.#suspended = after; // the first good reading after none: a baseline, never a jump
    else if (after > this.#suspended) {
      // read-to-read jitter is microseconds either way: the baseline only ratchets up, so it cannot accumulate
      const slept = after - this.#suspended;
      this.#suspended = after;
      this.#offset += slept; // the wall clock went on while the monotonic one stood still: no step
      this.#unreported += slept;
    }
    let suspendMs = 0;
    if (this.#unreported > SUSPEND_MIN_MS) {
      suspendMs = this.#unreported;
      this.#unreported = 0;
    }
    const step = offset - this.#offset;
    if (Math.abs(step) <= this.#stepMinMs) {
      if (this.#forgetSmall) this.#offset = offset;
      return { stepMs: 0, suspendMs };
    }
    this.#offset = offset;
    return { stepMs: step, suspendMs };
  }
}
