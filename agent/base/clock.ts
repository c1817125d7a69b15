/** The only module that touches real time: a Clock port and its system implementation. */
import { nativeAddon } from './native-addon.ts';

/** Time source injected everywhere; pure code takes `nowMs` values instead. */
export interface Clock {
  /** Wall-clock milliseconds since the epoch (for timestamps, stored records). */
  nowMs(): number;
  /** Monotonic milliseconds (for durations, timeouts; never jumps with NTP). */
  monoMs(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Calls `fn` after `ms`; returns a cancel function. */
  setTimer(ms: number, fn: () => void): () => void;
  /**
   * Milliseconds the system has spent suspended since boot (CLOCK_BOOTTIME − CLOCK_MONOTONIC: the monotonic clock
   * stands still while it sleeps), or null where it cannot be read (no native addon): a suspend then reads as a
   * forward step of the wall clock.
   */
  suspendedMs?(): number | null;
}

/** The addon's reading (only its changes count: a time namespace may offset it), or null when missing or unreadable (NaN). */
function suspendedMs(): number | null {
  const v = nativeAddon()?.suspendedMs?.();
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Real time. */
export const systemClock: Clock = {
  nowMs: () => Date.now(),
  monoMs: () => performance.now(),
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
  suspendedMs,
};

/** Manually advanced clock for tests of code that schedules timers. */
export class ManualClock implements Clock {
  #now: number;
  #mono = 0;
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
  suspendedMs(): number {
    return this.#suspended;
  }
  /** The system sleeps for `ms`: the wall clock and the suspended total move; the monotonic clock and timers do not. */
  suspend(ms: number): void {
    this.#now += ms;
    this.#suspended += ms;
  }
  /** Steps the wall clock alone by `ms` (NTP correcting it, `date -s`); the monotonic clock and timers do not move. */
  stepWall(ms: number): void {
    this.#now += ms;
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
