/** The only module that touches real time: a Clock port and its system implementation. */
import { readFileSync } from 'node:fs';

/** Time source injected everywhere; pure code takes `nowMs` values instead. */
export interface Clock {
  /** Wall-clock milliseconds since the epoch (for timestamps, stored records). */
  nowMs(): number;
  /** Monotonic milliseconds (for durations, timeouts; never jumps with NTP). */
  monoMs(): number;
  /**
   * Milliseconds on a clock that never jumps with NTP either but, unlike monoMs, keeps counting while the system is
   * suspended (CLOCK_BOOTTIME). Absent where unknown. Only for telling a step of the wall clock from a suspend.
   */
  bootMs?(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Calls `fn` after `ms`; returns a cancel function. */
  setTimer(ms: number, fn: () => void): () => void;
}

/** Real elapsed time that no wall-clock step moves: the boot clock where there is one (it counts a suspend), else the monotonic one. */
export function bootOrMonoMs(clock: Pick<Clock, 'monoMs' | 'bootMs'>): number {
  return clock.bootMs?.() ?? clock.monoMs();
}

/** Where Linux shows CLOCK_BOOTTIME: seconds since boot, suspended time included, 10-ms resolution. */
const UPTIME_PATH = '/proc/uptime';
/** bootMs − monoMs at the last good read: a failed read continues on the monotonic clock from there. */
let bootOffsetMs = 0;

/** CLOCK_BOOTTIME in ms (Node has no binding for it); a read that fails keeps the last offset to the monotonic clock. */
function bootMs(): number {
  const mono = performance.now();
  try {
    const secs = Number.parseFloat(readFileSync(UPTIME_PATH, 'latin1'));
    if (Number.isFinite(secs)) bootOffsetMs = secs * 1000 - mono;
  } catch {
    // not Linux, or /proc hidden: the monotonic clock from the last known offset
  }
  return mono + bootOffsetMs;
}

/** Real time. */
export const systemClock: Clock = {
  nowMs: () => Date.now(),
  monoMs: () => performance.now(),
  bootMs,
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => {
        clearTimeout(t);
        reject(signal?.reason);
      };
      const t = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
  setTimer: (ms, fn) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return () => clearTimeout(t);
  },
};

/** Manually advanced clock for tests of code that schedules timers. */
export class ManualClock implements Clock {
  #now: number;
  #mono = 0;
  /** Time spent suspended (bootMs − monoMs). */
  #suspended = 0;
  #timers: { at: number; fn: () => void; id: number }[] = [];
  #nextId = 1;

  constructor(startMs = 1_700_000_000_000) {
    this.#now = startMs;
  }
  nowMs(): number {
    return this.#now;
  }
  monoMs(): number {
    return this.#mono;
  }
  setTimer(ms: number, fn: () => void): () => void {
    const id = this.#nextId++;
    this.#timers.push({ at: this.#mono + Math.max(0, ms), fn, id });
    return () => {
      this.#timers = this.#timers.filter((t) => t.id !== id);
    };
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const cancel = this.setTimer(ms, resolve);
      signal?.addEventListener(
        'abort',
        () => {
          cancel();
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }
  bootMs(): number {
    return this.#mono + this.#suspended;
  }
  /** Steps the wall clock alone by `ms` (NTP correcting it, `date -s`); the monotonic clock and timers do not move. */
  stepWall(ms: number): void {
    this.#now += ms;
  }
  /** The system sleeps `ms`: the wall and boot clocks move on, the monotonic clock and timers do not. */
  suspend(ms: number): void {
    this.#now += ms;
    this.#suspended += ms;
  }
  /** Advances time by `ms`, firing due timers in order. */
  advance(ms: number): void {
    const target = this.#mono + ms;
    for (;;) {
      this.#timers.sort((a, b) => a.at - b.at);
      const next = this.#timers[0];
      if (!next || next.at > target) break;
      this.#timers.shift();
      this.#now += next.at - this.#mono;
      this.#mono = next.at;
      next.fn();
    }
    this.#now += target - this.#mono;
    this.#mono = target;
  }
}
