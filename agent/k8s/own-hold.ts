/** This agent's belief in its own fleet hold: since when it was last written, on both clocks, and whether it still stands. */
import type { Clock } from '../base/clock.ts';

/** Wall and monotonic time at one instant. */
export interface Instant {
  nowMs: number;
  monoMs: number;
}

export class OwnHold {
  readonly #clock: Pick<Clock, 'nowMs' | 'monoMs'>;
  readonly #ttlMs: number;
  /** When the last successful write of the hold began (before the request: no other agent saw it earlier). */
  #at: Instant | null = null;

  constructor(clock: Pick<Clock, 'nowMs' | 'monoMs'>, ttlSeconds: number) {
    this.#clock = clock;
    this.#ttlMs = ttlSeconds * 1000;
  }

  /** Now on both clocks: taken before a write, passed to written() once it succeeded. */
  now(): Instant {
    return { nowMs: this.#clock.nowMs(), monoMs: this.#clock.monoMs() };
  }

  written(at: Instant): void {
    this.#at = at;
  }

  clear(): void {
    this.#at = null;
  }

  /**
   * Milliseconds since the last write began, by whichever clock says longer (null: none held). The monotonic clock
   * stops during a system suspend and the wall clock may be stepped; the other agents judge the hold by their own
   * monotonic clocks from when they saw the write, so ending this agent's belief at the earlier of the two is the safe
   * side: it may give a hold up early, never keep one the others count as free.
   */
  sinceWrittenMs(): number | null {
    if (!this.#at) return null;
    return Math.max(this.#clock.monoMs() - this.#at.monoMs, this.#clock.nowMs() - this.#at.nowMs);
  }

  /** True while the TTL has not passed since the last write. */
  held(): boolean {
    const since = this.sinceWrittenMs();
    return since !== null && since < this.#ttlMs;
  }

  /** Milliseconds until a renewal is due (a third of the TTL after the last write), or null when none is held. */
  renewDueInMs(): number | null {
    const since = this.sinceWrittenMs();
    if (since === null || since >= this.#ttlMs) return null;
    return Math.max(0, this.#ttlMs / 3 - since);
  }
}
