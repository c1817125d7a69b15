/** A loop that runs one step after another until stopped, sleeping as long as each step asks; wake() ends a sleep early. */
import type { Clock } from './clock.ts';

export interface StepLoopOptions {
  clock: Clock;
  /** One step; resolves with how long (ms) to wait before the next one (0: at once). */
  step(): Promise<number>;
  /** The step threw: reports it and says how long (ms) to wait before trying again. */
  onError(e: unknown): number;
}

/**
 * The shape of a worker that reacts to events but also polls (a sink's forwarder): a wake() during a sleep ends it;
 * a wake() while a step runs makes the next sleep return at once, so an event is never lost between two steps.
 * stop() lets the running step finish (callers abort it through their own signal) and skips every sleep after it.
 */
export class StepLoop {
  readonly #o: StepLoopOptions;
  #stopped = true;
  #loop: Promise<void> | null = null;
  #wakeFn: (() => void) | null = null;
  #woken = false;

  constructor(o: StepLoopOptions) {
    this.#o = o;
  }

  get running(): boolean {
    return !this.#stopped;
  }

  /** Re-evaluate now: ends the current sleep, or skips the next one when a step is running. */
  wake(): void {
    if (this.#wakeFn) this.#wakeFn();
    else this.#woken = true;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#woken = false;
    this.#loop = this.#run();
  }

  /** Resolves once the running step (if any) has ended; no step starts after the call. */
  stop(): Promise<void> {
    this.#stopped = true;
    this.wake();
    const loop = this.#loop ?? Promise.resolve();
    this.#loop = null;
    return loop;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      let wait: number;
      try {
        wait = await this.#o.step();
      } catch (e) {
        wait = this.#o.onError(e);
      }
      if (wait > 0 && !this.#stopped) await this.#sleep(wait);
    }
  }

  #sleep(ms: number): Promise<void> {
    if (this.#woken) {
      this.#woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const cancel = this.#o.clock.setTimer(ms, () => {
        this.#wakeFn = null;
        resolve();
      });
      this.#wakeFn = () => {
        cancel();
        this.#wakeFn = null;
        resolve();
      };
    });
  }
}
