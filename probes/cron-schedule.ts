/** The throughput cron on the agent's clock: node-cron matches the slots, a 1-s tick fires them, a step skips ahead. */
import type { Clock } from '../agent/base/clock.ts';
import type { Logger } from '../agent/base/log.ts';
import { WallStepWatch } from '../agent/base/wall-step.ts';

/** How often slots are checked and the wall clock compared with the monotonic one: a slot fires within this of its time. */
export const CRON_STEP_CHECK_MS = 1_000;

/**
 * Most slot boundaries one late tick looks back over (a loop blocked for minutes, a suspended box). Slots found among
 * them run once, as one; older ones are not replayed. Two hours of per-minute slots: a bounded number of matches.
 */
export const CRON_MAX_LOOKBACK_SLOTS = 120;

/** What is needed of node-cron: its matcher for one expression (a task created and never started, so it arms nothing). */
export interface CronMatcher {
  match(date: Date): boolean;
  destroy(): void | Promise<void>;
}

/** The spacing of an expression's slots: node-cron's optional sixth (leading) field is seconds, otherwise minutes. */
export function cronSlotMs(expression: string): number {
  return expression.trim().split(/\s+/).length >= 6 ? 1_000 : 60_000;
}

/**
 * node-cron (4.x) schedules by arming one timer for its next slot and, when it fires, walks every slot between that one
 * and the wall clock's now, emitting a "missed execution" for each. After a step forward of years (a box without RTC
 * that booted at 1970, then NTP) that is hundreds of thousands of slots: with a per-minute cron and a 1-year step,
 * 525,600 missed executions, the event loop blocked 22 s and RSS 591 MB (`/tmp/lw18/cron-step.mjs`, session 18).
 * Re-creating the task when a 1-s check saw a step left a race: a step in the last second before a slot reached
 * node-cron's timer first. So node-cron only matches here. Every CRON_STEP_CHECK_MS the tick takes the wall clock's
 * step: on a step it starts from the new now (the slots a step skipped are not replayed); otherwise it asks node-cron
 * whether any slot boundary since the last tick matches, and fires once if one does.
 */
export class SteppedCron {
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #matcher: CronMatcher;
  readonly #slotMs: number;
  readonly #onSlot: () => void;
  readonly #steps: WallStepWatch;
  /** The last slot boundary already checked (wall ms). */
  #checkedMs = 0;
  #cancel: (() => void) | null = null;
  /** Wall-clock steps after which the schedule restarted from the new time (status and tests). */
  recreated = 0;

  constructor(clock: Clock, log: Logger, matcher: CronMatcher, slotMs: number, onSlot: () => void) {
    this.#clock = clock;
    this.#log = log;
    this.#matcher = matcher;
    this.#slotMs = slotMs;
    this.#onSlot = onSlot;
    this.#steps = new WallStepWatch(clock);
  }

  start(): void {
    this.#checkedMs = this.#boundary(this.#clock.nowMs());
    this.#arm();
  }

  #boundary(ms: number): number {
    return Math.floor(ms / this.#slotMs) * this.#slotMs;
  }

  #arm(): void {
    this.#cancel = this.#clock.setTimer(CRON_STEP_CHECK_MS, () => {
      this.#tick();
      if (this.#cancel !== null) this.#arm();
    });
  }

  #tick(): void {
    const step = this.#steps.take();
    const now = this.#clock.nowMs();
    const last = this.#boundary(now);
    if (step !== 0) {
      this.#checkedMs = last;
      this.recreated += 1;
      this.#log.warn({ stepMs: step }, 'wall clock stepped; throughput schedule restarted from the new time (slots the step skipped are not replayed)');
      return;
    }
    const from = Math.max(this.#checkedMs, last - CRON_MAX_LOOKBACK_SLOTS * this.#slotMs);
    let due = false;
    for (let t = from + this.#slotMs; t <= last && !due; t += this.#slotMs) due = this.#matcher.match(new Date(t));
    this.#checkedMs = Math.max(this.#checkedMs, last);
    if (due) this.#onSlot();
  }

  async stop(): Promise<void> {
    this.#cancel?.();
    this.#cancel = null;
    await this.#matcher.destroy();
  }
}
