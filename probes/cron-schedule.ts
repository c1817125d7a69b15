/** The throughput cron on the agent's clock: node-cron matches the slots, a 1-s tick fires them, a step skips ahead. */
import type { Clock } from '../agent/base/clock.ts';
import type { Logger } from '../agent/base/log.ts';
import { WallStepWatch } from '../agent/base/wall-step.ts';

/** How often slots are checked and the wall clock compared with the monotonic one: a slot fires within this of its time. */
export const CRON_STEP_CHECK_MS = 1_000;

/**
 * Most slot boundaries one late tick looks back over (a loop blocked for minutes). Slots found among them run once, as
 * one; older ones are not replayed. Two hours of per-minute slots: a bounded number of matches.
 */
export const CRON_MAX_LOOKBACK_SLOTS = 120;

/**
 * After a suspend the look-back spans the sleep, up to this many slots: a day of per-minute slots, so a daily
 * fixed-time slot (`30 2 * * *`) slept through runs on waking, as a systemd timer with Persistent=true does. With
 * node-cron's six-field form (a seconds field: 1-s slots) that is 24 minutes: a slot slept through further back is not
 * run (matching a day of seconds would cost ~1.5 s). The scan
 * goes newest first and stops at the first slot due. node-cron matched 1,440 slots in 9–20 ms (61 ms the first time)
 * on the 2-core dev VM at load 8.7, so a sleep past a rarer slot (weekly, monthly) costs about that once per wake, and
 * that slot is not run.
 */
export const CRON_MAX_WAKE_LOOKBACK_SLOTS = 1_440;

/** A tick is due this long after a slot boundary, so a timer that runs a little late still sees one boundary, not two. */
export const CRON_TICK_AFTER_BOUNDARY_MS = 5;

/**
 * A slot of a fixed-time expression (no `*` leading its minute or hour field) whose local wall time already ran within
 * this long is not run again: the hour a DST fall-back repeats and a clock stepped back by less than this do not run a
 * "30 2 * * *" job twice. Expressions with a wildcard minute or hour run by the clock as it reads, repeated hour
 * included. Both as vixie cron does (its limit is also 3 h).
 */
export const CRON_REPEAT_GUARD_MS = 3 * 3_600_000;

/** What is needed of node-cron: its matcher for one expression (a task created and never started, so it arms nothing). */
export interface CronMatcher {
  match(date: Date): boolean;
  destroy(): void | Promise<void>;
}

/** What SteppedCron needs to know of an expression besides node-cron's matcher. */
export interface CronShape {
  /** Spacing of the slots: node-cron's optional sixth (leading) field is seconds, otherwise minutes. */
  slotMs: number;
  /** No `*` leads the minute or hour field: a slot is a wall time that runs once (CRON_REPEAT_GUARD_MS). */
  fixedTime: boolean;
}

export function cronShape(expression: string): CronShape {
  const fields = expression.trim().split(/\s+/);
  const [minute = '*', hour = '*'] = fields.length >= 6 ? fields.slice(1) : fields;
  return { slotMs: fields.length >= 6 ? 1_000 : 60_000, fixedTime: !minute.startsWith('*') && !hour.startsWith('*') };
}

/** The local wall time of a slot, as cron reads it (the key of the repeat guard). */
function localStamp(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()} ${d.getHours()}:${d.getMinutes()}:${d.getSeconds()}`;
}

/**
 * node-cron (4.x) schedules by arming one timer for its next slot and, when it fires, walks every slot between that one
 * and the wall clock's now, emitting a "missed execution" for each. After a step forward of years (a box without RTC
 * that booted at 1970, then NTP) that is hundreds of thousands of slots: with a per-minute cron and a 1-year step,
 * 525,600 missed executions, the event loop blocked 22 s and RSS 591 MB (`/tmp/lw18/cron-step.mjs`, session 18).
 * Re-creating the task when a 1-s check saw a step left a race: a step in the last second before a slot reached
 * node-cron's timer first. So node-cron only matches here, and a tick fires the slots: every CRON_STEP_CHECK_MS, and
 * just after each slot boundary. It asks node-cron whether a boundary since the last tick matches and fires once if
 * one does. On a step of the wall clock it first runs a slot that passed before the step (up to the old frame's now),
 * then goes on from the new now: the slots a step skipped are not replayed. A suspend, where the clock can tell it
 * (Clock.suspendedMs), is no step: the first tick after waking is late and runs one slot slept through (looking back
 * over the sleep, up to CRON_MAX_WAKE_LOOKBACK_SLOTS), so the uplinks get a fresh figure on waking; without the reading
 * a sleep reads as a step.
 */
export class SteppedCron {
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #matcher: CronMatcher;
  readonly #slotMs: number;
  readonly #fixedTime: boolean;
  readonly #onSlot: () => void;
  readonly #steps: WallStepWatch;
  /** The last slot boundary already checked (wall ms). */
  #checkedMs = 0;
  /** Local wall times of the slots run lately, and when (monotonic): the repeat guard (fixed-time expressions). */
  readonly #ran = new Map<string, number>();
  #cancel: (() => void) | null = null;
  /** The matcher until stop destroys it. */
  #live: CronMatcher | null;
  /** Wall-clock steps after which the schedule went on from the new time (status and tests). */
  recreated = 0;

  constructor(clock: Clock, log: Logger, matcher: CronMatcher, shape: CronShape, onSlot: () => void) {
    this.#clock = clock;
    this.#log = log;
    this.#matcher = matcher;
    this.#live = matcher;
    this.#slotMs = shape.slotMs;
    this.#fixedTime = shape.fixedTime;
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
    const now = this.#clock.nowMs();
    const toBoundary = this.#boundary(now) + this.#slotMs - now + CRON_TICK_AFTER_BOUNDARY_MS;
    this.#cancel = this.#clock.setTimer(Math.min(CRON_STEP_CHECK_MS, toBoundary), () => {
      this.#tick();
      if (this.#cancel !== null) this.#arm();
    });
  }

  #tick(): void {
    // a suspend is no step: the tick after it is late, and runs a slot slept through once (a fresh figure on waking)
    const { stepMs: step, suspendMs } = this.#steps.take();
    const now = this.#clock.nowMs();
    const lookBack = suspendMs === 0 ? CRON_MAX_LOOKBACK_SLOTS : this.#wakeLookBack(suspendMs);
    if (step === 0) {
      this.#runDue(this.#boundary(now), lookBack);
      return;
    }
    this.#runDue(this.#boundary(now - step), lookBack); // what passed in the old frame before the step
    this.#checkedMs = this.#boundary(now);
    this.recreated += 1;
    this.#log.warn({ stepMs: step }, 'wall clock stepped; throughput schedule goes on from the new time (slots the step skipped are not replayed)');
  }

  /** Slots to look back over after a sleep of `suspendMs`: the sleep and the usual look-back, capped. */
  #wakeLookBack(suspendMs: number): number {
    return Math.min(CRON_MAX_WAKE_LOOKBACK_SLOTS, Math.ceil(suspendMs / this.#slotMs) + CRON_MAX_LOOKBACK_SLOTS);
  }

  /**
   * Runs once if a slot boundary in (checked, last], at most `lookBack` slots back, matches and has not run lately;
   * `last` becomes the checked one. Newest first: the first slot due is the one run.
   */
  #runDue(last: number, lookBack: number): void {
    if (last <= this.#checkedMs) return;
    const from = Math.max(this.#checkedMs, last - lookBack * this.#slotMs);
    this.#checkedMs = last;
    const mono = this.#clock.monoMs();
    for (const [stamp, at] of this.#ran) if (mono - at > CRON_REPEAT_GUARD_MS) this.#ran.delete(stamp);
    let due: string | null = null;
    for (let t = last; t > from && due === null; t -= this.#slotMs) {
      const stamp = this.#fixedTime ? localStamp(t) : '';
      if (!this.#ran.has(stamp) && this.#matcher.match(new Date(t))) due = stamp;
    }
    if (due === null) return;
    if (this.#fixedTime) this.#ran.set(due, mono);
    this.#onSlot();
  }

  /** Stops the ticks and destroys node-cron's task; a second call does nothing. */
  async stop(): Promise<void> {
    this.#cancel?.();
    this.#cancel = null;
    const matcher = this.#live;
    this.#live = null;
    await matcher?.destroy();
  }
}
