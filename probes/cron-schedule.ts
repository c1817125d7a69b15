/** The throughput cron, re-created whenever the wall clock steps, so node-cron never replays the slots a step skipped. */
import type { Clock } from '../agent/base/clock.ts';
import type { Logger } from '../agent/base/log.ts';
import { WallStepWatch } from '../agent/base/wall-step.ts';

/** How often the wall clock is compared with the monotonic one (a subtraction; the step must be seen before node-cron's next beat). */
export const CRON_STEP_CHECK_MS = 1_000;

/** What is needed of a node-cron task. */
export interface CronTask {
  destroy(): void | Promise<void>;
}

/**
 * node-cron (4.x) arms one timer for its next slot and, when it fires, walks every slot between that one and the wall
 * clock's now, one by one, emitting a "missed execution" for each. After a step forward of years (a box without RTC
 * that booted at 1970, then NTP) that is hundreds of thousands of slots: measured with a per-minute cron and a 1-year
 * step, 525,600 missed executions, the event loop blocked 22 s and RSS 591 MB (`/tmp/lw18/cron-step.mjs`, session
 * 18). linkward compares the clocks every CRON_STEP_CHECK_MS and, on a step, destroys the task and schedules a new one
 * from the new now, before node-cron's own timer fires (it is armed for the next slot: an hour away for the default).
 */
export class SteppedCron {
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #create: () => CronTask;
  readonly #steps: WallStepWatch;
  #task: CronTask | null = null;
  #cancel: (() => void) | null = null;
  /** Tasks re-created after a step (status and tests). */
  recreated = 0;

  constructor(clock: Clock, log: Logger, create: () => CronTask) {
    this.#clock = clock;
    this.#log = log;
    this.#create = create;
    this.#steps = new WallStepWatch(clock);
  }

  start(): void {
    this.#task = this.#create();
    this.#arm();
  }

  #arm(): void {
    this.#cancel = this.#clock.setTimer(CRON_STEP_CHECK_MS, () => {
      const step = this.#steps.take();
      if (step !== 0 && this.#task !== null) {
        void this.#task.destroy();
        this.#task = this.#create();
        this.recreated += 1;
        this.#log.warn({ stepMs: step }, 'wall clock stepped; throughput schedule re-created from the new time (slots the step skipped are not replayed)');
      }
      if (this.#task !== null) this.#arm();
    });
  }

  async stop(): Promise<void> {
    this.#cancel?.();
    this.#cancel = null;
    const t = this.#task;
    this.#task = null;
    await t?.destroy();
  }
}
