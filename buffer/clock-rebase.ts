/** Keeps stored record times in the wall clock's frame: clamps them at open, and rebases them after a step of the clock. */
import type { Clock } from '../agent/base/clock.ts';
import { codeOf, messageOf } from '../agent/base/errors.ts';
import type { Logger } from '../agent/base/log.ts';
import type { SinkConfig } from '../agent/config/buffer.ts';
import { clockStep, expiryCaps, shiftFor, type ClockSample, type ClockStep } from './clock-step.ts';
import type { BufferMetrics } from './metrics.ts';
import type { ClampResult, ShiftPlan, Store, TimeShift } from './types.ts';

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
  sinks: Iterable<Pick<SinkConfig, 'name' | 'ttlSeconds'>>;
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
 * After a failed rebase (e.g. a full disk: each slice rewrites the rows it moves, so the WAL needs about their size),
 * wait this long before the next try, doubling up to REBASE_RETRY_MAX_MS: the sweep it holds back only loses nothing by
 * waiting, and a stored plan goes on where it stopped.
 */
export const REBASE_RETRY_FIRST_MS = 30_000;
export const REBASE_RETRY_MAX_MS = 600_000;

/**
 * Records rewritten per rebase transaction. One transaction for the whole buffer blocked the loop 2.5–2.7 s per 200,000
 * records on the 2-core dev VM (`npm run bench:rebase`), so a default 256-MiB buffer of small records took longer than
 * a probe timeout, and a larger one on a slow SD card longer than the unit's 30-s WatchdogSec: systemd killed the agent
 * mid-rebase and the step was lost. A slice of 2,000 takes about 30 ms there; ingest, probes and the watchdog run
 * between slices.
 */
export const REBASE_SLICE_RECORDS = 2_000;

const sample = (c: Clock): ClockSample => ({ wallMs: c.nowMs(), monoMs: c.monoMs() });
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const NO_CLAMP: ClampResult = { created: 0, expires: 0 };

export class ClockRebaser {
  readonly #d: ClockRebaseDeps;
  #last: ClockSample;
  /** Steps seen and not yet begun as a plan, oldest first. */
  readonly #pending: ClockStep[] = [];
  /** Steps whose plan began in this run and whose rebase has not finished (reported when it has). */
  #begun: ClockStep[] = [];
  /** The plan stored with the records (begun here, or resumed at open), until it is finished. */
  #plan: ShiftPlan | null = null;
  /** Records moved by plans finished since the last report. */
  #shifted = 0;
  /** Why a clamp is still owed: at open, after a step, or none. */
  #clamp: 'open' | 'step' | null = null;
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
   * At open: resumes a rebase a stop, crash or power cut interrupted (its plan is stored with the records), then
   * bounds the times: no record created in the future, none expiring after now + its sink's TTL. Across a restart
   * there is no monotonic reference, so a step while the agent was down cannot be measured; the clamp bounds what a
   * clock that was ahead (or a TTL lowered since) left behind. Runs in slices after open; a failure is logged and
   * retried like a rebase.
   */
  open(): void {
    try {
      this.#plan = this.#d.store.pendingShift();
    } catch (e) {
      this.#d.log.error(
        { code: codeOf(e), err: messageOf(e) },
        'a clock rebase interrupted by a stop could not be read and is dropped; records it had not reached keep their times from before the step, so their TTL may end early',
      );
      this.#dropPlan();
    }
    if (this.#plan !== null) {
      const p = this.#plan;
      this.#d.log.warn(
        { deltaMs: p.shifts.map((s) => s.deltaMs), doneId: p.doneId, lastId: p.lastId, movedBefore: p.moved },
        'resuming a clock rebase that a stop, crash or power cut interrupted',
      );
    }
    this.#clamp = 'open';
    this.settled();
  }

  /**
   * Checks the clock; true when the stored times are in its frame. False while a rebase is owed: it runs (after the
   * committer drained, a slice at a time) and calls `settled` when done; a failed one is tried again at a later check
   * (REBASE_RETRY_FIRST_MS, doubling).
   */
  settled(): boolean {
    const now = sample(this.#d.clock);
    const step = clockStep(this.#last, now);
    this.#last = now;
    if (step !== null) {
      this.#pending.push(step);
      this.#d.metrics.clockSteps.inc({ direction: step.deltaMs > 0 ? 'forward' : 'backward' });
    }
    if (this.#pending.length === 0 && this.#plan === null && this.#clamp === null) return true;
    if (this.#running === null && now.monoMs < this.#retryAtMono) return false;
    this.#running ??= this.#work().then((done) => {
      this.#running = null;
      if (done) this.#d.settled();
    });
    return false;
  }

  /**
   * Checks the clock (a step found starts its rebase, as `settled` does) and returns the time to expire records
   * against: now, less every forward step not yet applied to every stored row. A row in the old frame expired by then
   * had expired before the step; a row in the new frame expired by then has expired now. So expiry goes on, on either
   * frame's rows, while a rebase runs, waits or keeps failing (a disk too full for its WAL), instead of stopping.
   */
  expiryCutoffMs(): number {
    this.settled();
    const planned = this.#plan?.shifts.reduce((sum, s) => sum + s.deltaMs, 0) ?? 0;
    const ahead = this.#pending.reduce((sum, s) => sum + Math.max(0, s.deltaMs), planned);
    return this.#d.clock.nowMs() - ahead;
  }

  /** Resolves once no rebase is running, including one a finished run started again (tests, and the service's stop). */
  async idle(): Promise<void> {
    while (this.#running !== null) await this.#running;
  }

  #dropPlan(): void {
    try {
      this.#d.store.dropShift();
    } catch (e) {
      this.#d.log.warn({ err: messageOf(e) }, 'could not drop the unreadable clock rebase plan; retried at the next open');
    }
  }

  #counted(shifted: number, c: ClampResult): void {
    const m = this.#d.metrics.rebased;
    if (shifted > 0) m.inc({ action: 'shifted' }, shifted);
    if (c.created > 0) m.inc({ action: 'created_clamped' }, c.created);
    if (c.expires > 0) m.inc({ action: 'expiry_clamped' }, c.expires);
  }

  /** Runs what is owed: plans for the steps seen, the stored plan a slice at a time, then the clamp; true when done. */
  async #work(): Promise<boolean> {
    let clamped: ClampResult = NO_CLAMP;
    try {
      for (;;) {
        if (this.#plan === null) {
          if (this.#pending.length === 0) break;
          // Records built before the step may still wait in the committer: in the store first, so the shift takes them too.
          await this.#d.drain();
          if (!this.#d.active()) return false;
          const steps = this.#pending.slice();
          const shifts = steps.map(shiftFor).filter((s): s is TimeShift => s !== null);
          if (shifts.length > 0) this.#plan = this.#d.store.beginShift(shifts);
          this.#pending.splice(0, steps.length);
          this.#begun.push(...steps);
          this.#clamp = 'step';
        }
        while (this.#plan !== null && this.#plan.doneId < this.#plan.lastId) {
          await turn();
          if (!this.#d.active()) return false;
          this.#plan = this.#d.store.shiftSome(REBASE_SLICE_RECORDS);
        }
        this.#shifted += this.#plan?.moved ?? 0;
        this.#plan = null;
      }
      if (this.#clamp !== null) {
        const c = await this.#clampAll();
        if (c === null) return false;
        clamped = c;
      }
    } catch (e) {
      const retryInMs = Math.min(REBASE_RETRY_MAX_MS, REBASE_RETRY_FIRST_MS * 2 ** this.#failures);
      this.#retryAtMono = this.#d.clock.monoMs() + retryInMs;
      this.#failures += 1;
      const steps = [...this.#begun, ...this.#pending];
      this.#d.log.warn(
        { err: messageOf(e), deltaMs: steps.map((s) => s.deltaMs), retryInMs },
        steps.length > 0 || this.#plan !== null
          ? 'wall clock stepped but buffered records could not be rebased; TTL expiry waits until a retry succeeds'
          : 'could not cap buffered record times at open; expiry may keep records longer than their TTL until a retry succeeds',
      );
      return false;
    }
    this.#failures = 0;
    this.#report(clamped);
    return true;
  }

  /** The clamp a slice at a time (sealed batches with the first); null when the service stopped part-way. */
  async #clampAll(): Promise<ClampResult | null> {
    const now = this.#d.clock.nowMs();
    const caps = expiryCaps(this.#d.sinks, now);
    const sum = { created: 0, expires: 0 };
    let after: number | null = 0;
    while (after !== null) {
      await turn();
      if (!this.#d.active()) return null;
      const c = this.#d.store.clampSome(now, caps, after, REBASE_SLICE_RECORDS);
      sum.created += c.created;
      sum.expires += c.expires;
      after = c.nextAfterId;
    }
    return sum;
  }

  /** Counts and logs what finished: each step begun (once, with its plan's moved records), or the clamp at open. */
  #report(c: ClampResult): void {
    const shifted = this.#shifted;
    const steps = this.#begun;
    const atOpen = this.#clamp === 'open';
    this.#begun = [];
    this.#shifted = 0;
    this.#clamp = null;
    this.#counted(shifted, c);
    if (atOpen && c.created + c.expires > 0)
      this.#d.log.warn(
        { createdClamped: c.created, expiryClamped: c.expires },
        'buffered records had times after the clock (clock ahead when stored, or a lowered ttlSeconds): created times capped at now, expiry at now + TTL',
      );
    if (steps.length === 0 && shifted > 0)
      this.#d.log.warn(
        { shiftedRecords: shifted },
        'finished the clock rebase a stop interrupted; the records it moved count their TTL from their real ingest',
      );
    for (const s of steps) {
      this.lastStep = { atMs: s.atMs, deltaMs: s.deltaMs, shiftedRecords: shifted, createdClamped: c.created, expiryClamped: c.expires };
      this.#d.log.warn(
        { deltaMs: s.deltaMs, sinceCheckMs: s.sinceCheckMs, shiftedRecords: shifted, createdClamped: c.created, expiryClamped: c.expires },
        s.deltaMs > 0
          ? 'wall clock stepped forward; records buffered before the step moved with it, so their TTL and age count from their real ingest'
          : 'wall clock stepped backward; buffered records capped at now (created) and now + TTL (expiry)',
      );
    }
  }
}
