/** Keeps stored record times in the wall clock's frame: clamps them at open, and rebases them after a step of the clock. */
import { codeOf, messageOf } from '../agent/base/errors.ts';
import { WallStepWatch } from '../agent/base/wall-step.ts';
import { CLOCK_STEP_THRESHOLD_MS, expiryCaps, shiftFor, type ClockStep } from './clock-step.ts';
import type { ClampResult, ShiftPlan, TimeShift } from './types.ts';
import { REBASE_RETRY_FIRST_MS, REBASE_RETRY_MAX_MS, REBASE_SLICE_RECORDS, type ClockRebaseDeps } from './clock-rebase-deps.ts';
import { reportRebase, type ClockStepReport } from './clock-rebase-report.ts';

export type { ClockStepReport } from './clock-rebase-report.ts';

export { REBASE_RETRY_FIRST_MS, REBASE_RETRY_MAX_MS, REBASE_SLICE_RECORDS, type ClockRebaseDeps } from './clock-rebase-deps.ts';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const sumDeltas = (shifts: readonly TimeShift[]): number => shifts.reduce((sum, s) => sum + s.deltaMs, 0);

export class ClockRebaser {
  readonly #d: ClockRebaseDeps;
  /** Steps of the wall clock, told apart from suspends (a sleep is no step here: see `settled`). */
  readonly #watch: WallStepWatch;
  /** Monotonic time of the last check. */
  #lastMono: number;
  /** Forward shifts seen and not yet stored in the store's queue (storing failed, e.g. a full disk: retried). */
  readonly #unqueued: TimeShift[] = [];
  /** The shifts in the store's queue (seen, stored, not yet begun as a plan). */
  #queued: TimeShift[] = [];
  /** The plan stored with the records (begun here, or resumed at open), until it is finished. */
  #plan: ShiftPlan | null = null;
  /** Steps seen in this run and not yet reported (reported once the rebase they started is done). */
  #seen: ClockStep[] = [];
  /** A plan or queue was found at open (reported when finished). */
  #resumed = false;
  /** Records moved by plans finished since the last report. */
  #shifted = 0;
  /** Why a clamp is still owed: at open, after a step, or none. */
  #clamp: 'open' | 'step' | null = null;
  /** The clamp at open ran in this pass (its counts get the open's log line). */
  #openClamped = false;
  /** Bumped by every step: a clamp that began before the last bump must run again. */
  #clampsOwed = 0;
  #running: Promise<void> | null = null;
  #failures = 0;
  /** Monotonic time before which a failed rebase is not tried again. */
  #retryAtMono = 0;
  lastStep: ClockStepReport | null = null;

  constructor(deps: ClockRebaseDeps) {
    this.#d = deps;
    this.#watch = new WallStepWatch(deps.clock, { stepMinMs: CLOCK_STEP_THRESHOLD_MS, forgetSmall: true });
    this.#lastMono = deps.clock.monoMs();
  }

  /**
   * At open: resumes a rebase a stop, crash or power cut interrupted (its plan and queued steps are stored with the
   * records), then bounds the times: no record created in the future, none expiring after now + its sink's TTL.
   * Across a restart there is no monotonic reference, so a step while the agent was down cannot be measured; the clamp
   * bounds what a clock that was ahead (or a TTL lowered since) left behind. Runs in slices after open; a failure is
   * logged and retried like a rebase.
   */
  open(): void {
    try {
      const st = this.#d.store.shiftState();
      this.#plan = st.plan;
      this.#queued = st.queued;
    } catch (e) {
      this.#d.log.error(
        { code: codeOf(e), err: messageOf(e) },
        'a clock rebase interrupted by a stop could not be read and is dropped; records it had not reached keep their times from before the step, so their TTL may end early',
      );
      this.#dropStored();
    }
    const shifts = [...(this.#plan?.shifts ?? []), ...this.#queued];
    if (shifts.length > 0) {
      this.#resumed = true;
      this.#d.log.warn(
        { deltaMs: shifts.map((s) => s.deltaMs), doneId: this.#plan?.doneId ?? 0, lastId: this.#plan?.lastId ?? null, movedBefore: this.#plan?.moved ?? 0 },
        'resuming a clock rebase that a stop, crash or power cut interrupted',
      );
    }
    this.#clamp = 'open';
    this.settled();
  }

  /**
   * Checks the clock; true when the stored times are in its frame. A forward step is stored in the store's queue at
   * once, so a stop before its rebase loses nothing. False while a rebase is owed: it runs (after the committer
   * drained, a slice at a time) and calls `settled` when done; a failed one is tried again at a later check
   * (REBASE_RETRY_FIRST_MS, doubling).
   */
  settled(): boolean {
    const jump = this.#watch.take();
    const now = { wallMs: this.#d.clock.nowMs(), monoMs: this.#d.clock.monoMs() };
    const sinceCheckMs = now.monoMs - this.#lastMono + jump.suspendMs; // a sleep is time since the last check too
    this.#lastMono = now.monoMs;
    if (jump.suspendMs !== 0) this.#slept(jump.suspendMs);
    // whole milliseconds: stored times are integers (a fractional shift made them REAL)
    const step: ClockStep | null = jump.stepMs === 0 ? null : { deltaMs: Math.round(jump.stepMs), atMs: now.wallMs, sinceCheckMs };
    if (step !== null) {
      this.#d.metrics.clockSteps.inc({ direction: step.deltaMs > 0 ? 'forward' : 'backward' });
      this.#seen.push(step);
      this.#clamp = 'step';
      this.#clampsOwed += 1;
      const shift = shiftFor(step);
      if (shift !== null) this.#unqueued.push(shift);
      try {
        this.#storeQueue();
      } catch {
        // kept in memory and stored by the rebase, which logs the failure and retries
      }
    }
    if (this.#plan === null && this.#queued.length === 0 && this.#unqueued.length === 0 && this.#clamp === null) return true;
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
    const ahead = sumDeltas(this.#plan?.shifts ?? []) + sumDeltas(this.#queued) + sumDeltas(this.#unqueued);
    return this.#d.clock.nowMs() - ahead;
  }

  /** Resolves once no rebase is running, including one a finished run started again (tests, and the service's stop). */
  async idle(): Promise<void> {
    while (this.#running !== null) await this.#running;
  }

  /**
   * At stop: a last try to store the steps seen but not yet stored (their first try failed, e.g. a full disk). What
   * still cannot be stored is lost with the process, and the records buffered before it may expire early: logged.
   */
  storeBeforeStop(): void {
    try {
      this.#storeQueue();
    } catch (e) {
      this.#d.log.error(
        { code: codeOf(e), err: messageOf(e), deltaMs: this.#unqueued.map((s) => s.deltaMs) },
        'a wall-clock step could not be stored before the stop; after the restart, records buffered before it count their TTL from the old time and may expire early',
      );
    }
  }

  /**
   * The system slept (Clock.suspendedMs told it apart from a step): the wall clock was right throughout, so the records
   * keep their times. Their age and TTL count the sleep, as the upstream will: samples stored before an 8-h sleep are
   * 8 h old on waking (a Prometheus upstream refuses them past its window; backlog-age says so) and a 1-h TTL has run
   * out. Rebasing them as for a step made them look 8 h younger than they are. Without the reading a sleep reads as a
   * step and is rebased, as before.
   */
  #slept(suspendMs: number): void {
    this.#d.log.info(
      { suspendMs: Math.round(suspendMs) },
      'system was suspended; buffered records keep their times, so the sleep counts toward their age and TTL',
    );
  }

  /** Stores the shifts seen into the store's queue, in order; throws what the store threw (the rest stay in memory). */
  #storeQueue(): void {
    while (this.#unqueued.length > 0) {
      const shift = this.#unqueued[0] as TimeShift;
      this.#d.store.queueShift(shift);
      this.#queued.push(shift);
      this.#unqueued.shift();
    }
  }

  #dropStored(): void {
    try {
      this.#d.store.dropShift();
    } catch (e) {
      this.#d.log.warn({ err: messageOf(e) }, 'could not drop the unreadable clock rebase; retried at the next open');
    }
  }

  /** Runs what is owed: plans for the queued steps, each a slice at a time, then the clamp; true when done. */
  async #work(): Promise<boolean> {
    const clamped: ClampResult = { created: 0, expires: 0 };
    let clampRan = false;
    try {
      // A step seen during the clamp queues another plan: go round again, so nothing is reported done before it is.
      while (this.#queued.length + this.#unqueued.length > 0 || this.#plan !== null || this.#clamp !== null) {
        if (!(await this.#applyPlans())) return false;
        if (this.#clamp === null) continue;
        const owed = this.#clampsOwed;
        const c = await this.#clampAll();
        if (c === null) return false;
        clamped.created += c.created;
        clamped.expires += c.expires;
        clampRan = true;
        this.#openClamped ||= this.#clamp === 'open';
        if (this.#clampsOwed === owed) this.#clamp = null; // else a step came meanwhile: clamp once more after its plan
      }
    } catch (e) {
      const retryInMs = Math.min(REBASE_RETRY_MAX_MS, REBASE_RETRY_FIRST_MS * 2 ** this.#failures);
      this.#retryAtMono = this.#d.clock.monoMs() + retryInMs;
      this.#failures += 1;
      const rebasing = this.#seen.length > 0 || this.#resumed;
      this.#d.log.warn(
        { err: messageOf(e), deltaMs: this.#seen.map((s) => s.deltaMs), retryInMs },
        rebasing
          ? 'wall clock stepped but buffered records could not be rebased; TTL expiry waits until a retry succeeds'
          : 'could not cap buffered record times at open; expiry may keep records longer than their TTL until a retry succeeds',
      );
      return false;
    }
    this.#failures = 0;
    const report = reportRebase(this.#d, {
      steps: this.#seen,
      resumed: this.#resumed,
      atOpen: this.#openClamped,
      shifted: this.#shifted,
      clamped: clampRan ? clamped : null,
    });
    this.lastStep = report ?? this.lastStep;
    this.#seen = [];
    this.#resumed = false;
    this.#openClamped = false;
    this.#shifted = 0;
    return true;
  }

  /** Plans for the queued steps, each applied a slice at a time, until none is left; false when the service stopped. */
  async #applyPlans(): Promise<boolean> {
    for (;;) {
      this.#storeQueue();
      if (this.#plan === null) {
        if (this.#queued.length === 0) return true;
        // Records built before the step may still wait in the committer: in the store first, so the shift takes them too.
        await this.#d.drain();
        if (!this.#d.active()) return false;
        this.#storeQueue(); // steps seen while draining join this plan
        this.#plan = this.#d.store.beginShift();
        this.#queued = [];
      }
      while (this.#plan !== null && this.#plan.doneId < this.#plan.lastId) {
        await turn();
        if (!this.#d.active()) return false;
        this.#plan = this.#d.store.shiftSome(REBASE_SLICE_RECORDS);
      }
      this.#shifted += this.#plan?.moved ?? 0;
      this.#plan = null;
    }
  }

  /** The clamp a slice at a time over the records present when it began; null when the service stopped part-way. */
  async #clampAll(): Promise<ClampResult | null> {
    const sum = { created: 0, expires: 0 };
    let after: number | null = 0;
    let until: number | null = null;
    let now = 0;
    let caps = new Map<string, number>();
    while (after !== null) {
      await turn();
      if (!this.#d.active()) return null;
      if (until === null) {
        // now, in the same turn as the first slice reads the highest id: every record in range was stored by now
        now = this.#d.clock.nowMs();
        caps = expiryCaps(this.#d.sinks, now);
      }
      const c = this.#d.store.clampSome(now, caps, after, until, REBASE_SLICE_RECORDS);
      sum.created += c.created;
      sum.expires += c.expires;
      after = c.nextAfterId;
      until = c.untilId;
    }
    return sum;
  }
}
