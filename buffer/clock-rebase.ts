/** Keeps stored record times in the wall clock's frame: clamps them at open, and rebases them after a step of the clock. */
import type { Clock } from '../agent/base/clock.ts';
import { messageOf } from '../agent/base/errors.ts';
import type { Logger } from '../agent/base/log.ts';
import type { SinkConfig } from '../agent/config/buffer.ts';
import { clockStep, expiryCaps, shiftFor, type ClockSample, type ClockStep } from './clock-step.ts';
import type { BufferMetrics } from './metrics.ts';
import type { ClampResult, Store, TimeShift } from './types.ts';

/** The last step seen and what it did to the store (status details: `clockStep`). */
export interface ClockStepReport {
  /** Wall time (new frame) of the check that saw the step. */
  atMs: number;
  /** New minus old wall time. */
  deltaMs: number;
  /** Records moved by +delta (forward steps only). */
  shiftedRecords: number;
  /** Records whose created time was after now, set to now. */
  createdClamped: number;
  /** Records expiring after now + their sink's TTL, set to that. */
  expiryClamped: number;
}

export interface ClockRebaseDeps {
  store: Store;
  clock: Clock;
  sinks: Iterable<SinkConfig>;
  log: Logger;
  metrics: BufferMetrics;
  /** Resolves once every record handed to the committer is in the store (old-frame ones included). */
  drain: () => Promise<void>;
  /** False once the service is stopping: a pending rebase is dropped, the next open clamps. */
  active: () => boolean;
  /** A rebase finished: the expiry sweep it held back may run now. */
  settled: () => void;
}

/**
 * After a failed rebase (e.g. a full disk: it rewrites every row it moves, so the WAL needs about their size), wait
 * this long before the next try, doubling up to REBASE_RETRY_MAX_MS: each try of a large buffer blocks the loop for
 * seconds, and the sweep it holds back only loses nothing by waiting.
 */
export const REBASE_RETRY_FIRST_MS = 30_000;
export const REBASE_RETRY_MAX_MS = 600_000;

const sample = (c: Clock): ClockSample => ({ wallMs: c.nowMs(), monoMs: c.monoMs() });

export class ClockRebaser {
  readonly #d: ClockRebaseDeps;
  #last: ClockSample;
  /** Steps seen and not yet applied to the store, oldest first. */
  readonly #pending: ClockStep[] = [];
  #running: Promise<void> | null = null;
  #failures = 0;
  /** Monotonic time before which a failed rebase is not tried again. */
  #retryAtMono = 0;
  lastStep: ClockStepReport | null = null;

  constructor(deps: ClockRebaseDeps) {
    this.#d = deps;
    this.#last = sample(deps.clock);
  }

  /**
   * At open: no record created in the future, none expiring after now + its sink's TTL. Across a restart there is no
   * monotonic reference, so a step while the agent was down cannot be measured; this bounds what a clock that was
   * ahead (or a TTL lowered since) left behind. Failure (e.g. a full disk) is logged; the next step or open retries.
   */
  clampAtOpen(): void {
    const now = this.#d.clock.nowMs();
    try {
      const c = this.#d.store.clampTimes(now, expiryCaps(this.#d.sinks, now));
      if (c.created + c.expires === 0) return;
      this.#counted(0, c);
      this.#d.log.warn(
        { createdClamped: c.created, expiryClamped: c.expires },
        'buffered records had times after the clock (clock ahead when stored, or a lowered ttlSeconds): created times capped at now, expiry at now + TTL',
      );
    } catch (e) {
      this.#d.log.warn({ err: messageOf(e) }, 'could not cap buffered record times at open; expiry may keep records longer than their TTL');
    }
  }

  /**
   * Checks the clock; true when the stored times are in its frame, so an expiry sweep may run. False while a step's
   * rebase is pending: it runs (after the committer drained) and calls `settled` when done; a failed one is tried again
   * at a later check (REBASE_RETRY_FIRST_MS, doubling).
   */
  settled(): boolean {
    const now = sample(this.#d.clock);
    const step = clockStep(this.#last, now);
    this.#last = now;
    if (step !== null) {
      this.#pending.push(step);
      this.#d.metrics.clockSteps.inc({ direction: step.deltaMs > 0 ? 'forward' : 'backward' });
    }
    if (this.#pending.length === 0) return true;
    if (this.#running === null && now.monoMs < this.#retryAtMono) return false;
    this.#running ??= this.#apply().then((done) => {
      this.#running = null;
      if (done) this.#d.settled();
    });
    return false;
  }

  /**
   * Checks the clock (a step found starts its rebase, as `settled` does) and returns the time to expire records
   * against: now, less every forward step not yet applied to the store. A row in the old frame expired by then had
   * expired before the step; a row in the new frame expired by then has expired now. So expiry goes on, on either
   * frame's rows, while a rebase waits or keeps failing (a disk too full for its WAL), instead of stopping altogether.
   */
  expiryCutoffMs(): number {
    this.settled();
    const ahead = this.#pending.reduce((sum, s) => sum + Math.max(0, s.deltaMs), 0);
    return this.#d.clock.nowMs() - ahead;
  }

  /** Resolves once no rebase is running (tests). */
  async idle(): Promise<void> {
    await this.#running;
  }

  #counted(shifted: number, c: ClampResult): void {
    const m = this.#d.metrics.rebased;
    if (shifted > 0) m.inc({ action: 'shifted' }, shifted);
    if (c.created > 0) m.inc({ action: 'created_clamped' }, c.created);
    if (c.expires > 0) m.inc({ action: 'expiry_clamped' }, c.expires);
  }

  /** Applies the pending steps to the store; true when done (the held-back sweep may run). */
  async #apply(): Promise<boolean> {
    const steps = this.#pending.slice();
    let shifted: number;
    let clamped: ClampResult;
    try {
      // Records built before the step may still wait in the committer: in the store first, so the shift takes them too.
      await this.#d.drain();
      if (!this.#d.active()) return false;
      // Steps seen while draining were pushed meanwhile: take them too (all are applied in order).
      steps.push(...this.#pending.slice(steps.length));
      const shifts = steps.map(shiftFor).filter((s): s is TimeShift => s !== null);
      const now = this.#d.clock.nowMs();
      shifted = shifts.length > 0 ? this.#d.store.shiftTimes(shifts) : 0;
      // After every step: no record in the future, none expiring after now + TTL (a backward step's only remedy).
      clamped = this.#d.store.clampTimes(now, expiryCaps(this.#d.sinks, now));
    } catch (e) {
      const retryInMs = Math.min(REBASE_RETRY_MAX_MS, REBASE_RETRY_FIRST_MS * 2 ** this.#failures);
      this.#retryAtMono = this.#d.clock.monoMs() + retryInMs;
      this.#failures += 1;
      this.#d.log.warn(
        { err: messageOf(e), deltaMs: steps.map((s) => s.deltaMs), retryInMs },
        'wall clock stepped but buffered records could not be rebased; TTL expiry waits until a retry succeeds',
      );
      return false;
    }
    this.#pending.splice(0, steps.length);
    this.#failures = 0;
    this.#counted(shifted, clamped);
    for (const s of steps) {
      this.lastStep = { atMs: s.atMs, deltaMs: s.deltaMs, shiftedRecords: shifted, createdClamped: clamped.created, expiryClamped: clamped.expires };
      this.#d.log.warn(
        { deltaMs: s.deltaMs, sinceCheckMs: s.sinceCheckMs, shiftedRecords: shifted, createdClamped: clamped.created, expiryClamped: clamped.expires },
        s.deltaMs > 0
          ? 'wall clock stepped forward; records buffered before the step moved with it, so their TTL and age count from their real ingest'
          : 'wall clock stepped backward; buffered records capped at now (created) and now + TTL (expiry)',
      );
    }
    return true;
  }
}
