/** One uplink's throughput tests: whether one may run now (budget, traffic, source), running it, recording what it found, and when one is due again. */
import type { ProbeSample, VoidReason } from '../agent/core/types.ts';
import { throughputAllowance } from './budget.ts';
import { budgetStatus, testAllowance, uplinkBudget } from './uplink-budget.ts';
import { SLOW_SERVER_RUNS } from './confirmation-report.ts';
import { overlapsLoadingTest } from './disturbance.ts';
import { MIN_USEFUL_THROUGHPUT_BYTES, processCpuMs, type MonitorDeps } from './monitor-deps.ts';
import type { NoteInput, ServerHealth } from './notes.ts';
import type { PassiveView } from './passive-view.ts';
import { hostPort } from './rtt-probers.ts';
import { threadCpu } from './run-queue.ts';
import { sourceOfHost, type UplinkSources } from './source.ts';
import { runThroughput, type ThroughputProgress } from './throughput.ts';
import { SKIP_WORDS, outcomeOf, serverAfter, type SkipReason, type ThroughputOutcome } from './throughput-outcome.ts';
import { enterValue, recheckDue } from './throughput-policy.ts';
import { bytesOf } from './judged-figure.ts';
import { measure, type JudgedDirection } from './uplink-throughput.ts';

/** What a caller asks of one test; absent directions follow the config; `force` ignores the passive-traffic skip. */
export interface ThroughputRequest {
  download?: boolean;
  upload?: boolean;
  force?: boolean;
  onProgress?: (p: ThroughputProgress) => void;
}

/** What the tests read from the rest of the uplink's monitor, and where their set-aside figures go. */
export interface TestSurroundings {
  /** Observed traffic can stand in for a test; its carrier goes into that sample. */
  passive: PassiveView;
  /** The uplink's source addresses now: a test binds the one of its server's family. */
  sources(): UplinkSources;
  /** The last light round's RTT, read when each direction starts (undefined: none yet). */
  rttHintMs(): number | undefined;
  /** A figure the agent cannot vouch for (logged and kept for the notes). */
  voided(atMs: number, reason: VoidReason, detail: string): void;
}

/** Runs one uplink's throughput tests one at a time and keeps what they left behind (last figure, server health, why one was skipped). */
export class ThroughputTests {
  readonly #name: string;
  readonly #d: MonitorDeps;
  readonly #s: TestSurroundings;
  #last: ThroughputOutcome | undefined;
  /** Monotonic time of the last figure (-Infinity: none yet); lastMs() gives it as wall time. */
  #lastMono = Number.NEGATIVE_INFINITY;
  #lightBadSince = false;
  #server: ServerHealth = { failingSinceMs: null };
  #lastSkip: SkipReason | undefined;
  #busy = false;
  /** When the running test last moved a byte (monotonic ms): a stalled test does not load the link. */
  #movedAtMono = Number.NEGATIVE_INFINITY;
  #bytes = 0;

  constructor(deps: MonitorDeps, surroundings: TestSurroundings) {
    this.#d = deps;
    this.#name = deps.uplink.name;
    this.#s = surroundings;
  }

  /** A test is running now. */
  busy(): boolean {
    return this.#busy;
  }

  /** Whether a light round begun at `roundStartMono` (`busyAtStart`: a test ran then) measured this uplink's own test's queue. */
  overlaps(busyAtStart: boolean, roundStartMono: number): boolean {
    return overlapsLoadingTest(busyAtStart || this.#busy, this.#movedAtMono, roundStartMono);
  }

  /**
   * Wall-clock time of the last figure, measured or proven by traffic (-Infinity: none yet). Kept on the monotonic
   * clock, so the gaps measured from it (recheck, on-demand tests) keep their length when the wall clock steps.
   */
  lastMs(): number {
    const c = this.#d.clock;
    return c.nowMs() - (c.monoMs() - this.#lastMono);
  }

  /** A light round found the uplink unreachable or lossy: once it recovers, a throughput-only verdict is re-tested sooner. */
  noteLightBad(): void {
    this.#lightBadSince = true;
  }

  /** True when only a throughput figure holds this uplink worse and it should be re-measured now (throughput-policy.ts). */
  wantsRecheck(nowMs: number): boolean {
    const t = this.#d.cfg.throughput;
    if (!t.enabled || !t.url || this.#busy) return false;
    return recheckDue({
      view: this.#d.view?.(),
      nowMs,
      lastThroughputMs: this.lastMs(),
      lightWasBad: this.#lightBadSince,
      minGapMs: t.recheckMinGapMs,
      policy: this.#d.cfg.health,
    });
  }

  /** The newest throughput sample: this run's, else the store's. */
  lastSample(): ProbeSample | undefined {
    return this.#last?.sample ?? this.#d.store.latest(this.#name, 'throughput');
  }

  /** The speed-test server's health as the tests saw it. */
  server(): ServerHealth {
    return this.#server;
  }

  /** The throughput part of the operator notes. */
  noteInput(): Pick<NoteInput, 'server' | 'throughputConfigured' | 'throughputEnabled' | 'lastThroughput' | 'lastSkip'> {
    const t = this.#d.cfg.throughput;
    const last = this.lastSample();
    return {
      server: this.#server,
      throughputConfigured: t.url !== undefined,
      throughputEnabled: t.enabled,
      ...(last ? { lastThroughput: last } : {}),
      ...(this.#lastSkip ? { lastSkip: SKIP_WORDS[this.#lastSkip] } : {}),
    };
  }

  /** One test within the budget, unless something rules it out (then the outcome says why it was skipped). */
  async run(opts: ThroughputRequest): Promise<ThroughputOutcome> {
    const { cfg, clock } = this.#d;
    const t = cfg.throughput;
    const skip = (why: SkipReason): ThroughputOutcome => {
      this.#lastSkip = why;
      this.#d.metrics.skipped(this.#name, why);
      return { uplink: this.#name, ran: false, skipped: why };
    };
    if (this.#d.stopping?.aborted) return skip('stopped');
    if (!t.enabled) return skip('disabled');
    if (!t.url) return skip('no_url');
    if (this.#busy) return skip('busy');
    const dirs = [...((opts.download ?? t.download) ? (['down'] as const) : []), ...((opts.upload ?? t.upload) ? (['up'] as const) : [])];
    if (dirs.length === 0) return skip('disabled');
    const startMs = clock.nowMs();
    const th = cfg.health.thresholds;
    const passive = this.#s.passive;
    const observed = passive.provesThresholds(
      t.skipWhenObservedDownMbps ?? th.downloadMbps.degraded.exit,
      t.skipWhenObservedUpMbps ?? th.uploadMbps.degraded.exit,
    );
    if (!opts.force && observed) {
      const s: ProbeSample = {
        uplink: this.#name,
        kind: 'passive',
        atMs: startMs,
        downloadMbps: observed.rxMbps,
        uploadMbps: observed.txMbps,
        ...passive.carrierField(),
        bytesUsed: 0,
      };
      this.#d.store.record(s);
      this.#d.metrics.observe(s);
      this.#d.emit(s);
      this.#lastMono = clock.monoMs();
      this.#lightBadSince = false;
      return { ...skip('traffic'), sample: s };
    }
    const perDirection = throughputAllowance(uplinkBudget(this.#d, startMs), dirs.length, t.maxBytes, MIN_USEFUL_THROUGHPUT_BYTES);
    if (perDirection === 0) return skip('budget');
    const { address: source, problem } = sourceOfHost(this.#s.sources(), hostPort(t.url).host);
    if (problem) return { ...skip('no_source'), error: problem };
    // the confirmation server, where this uplink has a source for it (else confirmations use `url` again)
    const confirm = t.confirmUrl ? { url: t.confirmUrl, ...sourceOfHost(this.#s.sources(), hostPort(t.confirmUrl).host) } : null;
    const confirmWith = confirm && !confirm.problem ? confirm : null;
    this.#busy = true;
    this.#movedAtMono = clock.monoMs();
    this.#bytes = 0;
    try {
      const judged = await measure(
        {
          watch: this.#d.watch,
          cpuMs: this.#d.cpuMs ?? processCpuMs,
          loopCpu: this.#d.loopCpu ?? threadCpu,
          monoMs: () => clock.monoMs(),
          allowance: (pending) => testAllowance(this.#d, clock.nowMs(), pending),
          confirmServer: confirmWith !== null && confirmWith.url !== t.url,
          rttMs: () => this.#s.rttHintMs(),
          run: (direction, maxBytes, confirming) => {
            const rttHintMs = this.#s.rttHintMs();
            const other = confirming === true ? confirmWith : null;
            const from = other ? other.address : source;
            return runThroughput({
              url: other ? other.url : (t.url as string),
              preset: t.preset,
              direction,
              streams: t.streams,
              maxBytes,
              maxDurationMs: t.maxDurationMs,
              minMeasureMs: t.minMeasureMs,
              stableTolerance: t.stableTolerance,
              clock,
              latencyTimeoutMs: cfg.timeoutMs,
              ...(from ? { sourceAddress: from } : {}),
              ...(cfg.token ? { token: cfg.token } : {}),
              ...(rttHintMs !== undefined ? { rttHintMs } : {}),
              judgeAtMbps: enterValue(direction, cfg.health),
              ...(this.#d.stopping ? { signal: this.#d.stopping } : {}),
              onProgress: (p: ThroughputProgress) => {
                if (p.bytes !== this.#bytes) this.#movedAtMono = clock.monoMs();
                this.#bytes = p.bytes;
                opts.onProgress?.(p);
              },
            });
          },
        },
        dirs,
        perDirection,
        this.#d.view?.(),
        cfg.health,
      );
      // cut short by the agent's stop: not a figure of the link, and not a failure of the server
      if (this.#d.stopping?.aborted) return skip('stopped');
      return this.#record(judged);
    } finally {
      this.#busy = false;
    }
  }

  /** Records a finished test: sample, budget, server health, void figures. */
  #record(judged: Map<'down' | 'up', JudgedDirection>): ThroughputOutcome {
    const nowMs = this.#d.clock.nowMs();
    const r = outcomeOf(this.#name, nowMs, judged, this.#d.cfg.health);
    for (const v of r.suspects) {
      if (v.reason !== r.out.sample?.void) this.#d.metrics.voided(this.#name, 'throughput', v.reason);
      this.#s.voided(nowMs, v.reason, v.detail);
    }
    const s = r.out.sample as ProbeSample;
    this.#d.store.record(s);
    this.#d.metrics.observe(s);
    for (const c of r.confirmations) {
      this.#d.metrics.confirmation(this.#name, c.direction, c.server, c.outcome);
      this.#d.log.info(
        { uplink: this.#name, ...c },
        `throughput: a second test ran (${c.why}) against the ${c.server === 'confirm' ? 'confirmation' : 'same'} server: ${c.outcome}`,
      );
    }
    this.#server = serverAfter(this.#server, r, nowMs);
    if (this.#server.slowRuns === SLOW_SERVER_RUNS)
      this.#d.log.warn(
        { uplink: this.#name, runs: SLOW_SERVER_RUNS },
        'the speed-test server reads this uplink low while the confirmation server reads it well: a slow server, not the link',
      );
    if (r.failed) {
      this.#d.metrics.throughputFailed(this.#name, r.failure ?? 'error');
      this.#d.log.warn(
        { uplink: this.#name, errors: r.errors, bytes: [...judged.values()].map(bytesOf) },
        'throughput test failed: the speed-test server did not serve it',
      );
    } else if (r.errors.length > 0) this.#d.log.warn({ uplink: this.#name, errors: r.errors }, 'throughput probe had errors');
    this.#d.metrics.throughputServerUp(this.#name, this.#server.failingSinceMs === null);
    const b = budgetStatus(this.#d, nowMs);
    this.#d.metrics.budget(this.#name, b.remainingBytes, b.budgetBytes, b.resetAtMs);
    this.#d.emit(s);
    this.#lastMono = this.#d.clock.monoMs();
    this.#lightBadSince = false;
    this.#lastSkip = undefined;
    this.#last = r.out;
    return r.out;
  }
}
