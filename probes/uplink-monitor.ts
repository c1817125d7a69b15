/** Probes one uplink: light rounds (adaptive), throughput within the daily budget, passive counters and link facts, and what it can vouch for. */
import type { BudgetStatus, ProbeSample } from '../agent/core/types.ts';
import { uplinkBudgetBytes } from '../agent/config/uplinks.ts';
import { LwError, messageOf } from '../agent/base/errors.ts';
import { ProbeErrorCode } from './errors.ts';
import { afterRound, initialPlanner, nextDelayMs, quorumNow, targetsForRound, type PlannerState } from './adaptive.ts';
import { budgetView, msUntilNextUtcDay, throughputAllowance, type BudgetView } from './budget.ts';
import { suggestsChange } from './change.ts';
import { overlapsLoadingTest } from './disturbance.ts';
import { runLightRound } from './light-round.ts';
import { buildNotes, type ServerHealth, type VoidEvent } from './notes.ts';
import { PassiveView } from './passive-view.ts';
import { LIGHT_STORE_EVERY_MS, MAX_VOID_EVENTS, MIN_USEFUL_THROUGHPUT_BYTES, processCpuMs, type MonitorDeps } from './monitor-deps.ts';
import { resolveSources, sourceOfHost } from './source.ts';
import { TargetPool } from './target-pool.ts';
import { median, summariseWindow, type WindowEntry, type WindowSummary } from './stats.ts';
import { updateTargets, type TargetBook } from './target-health.ts';
import type { ProbeTarget } from './targets.ts';
import { hostPort } from './rtt-probers.ts';
import { runThroughput, type ThroughputProgress } from './throughput.ts';
import { recheckDue } from './throughput-policy.ts';
import { bytesOf, measure, type JudgedDirection } from './uplink-throughput.ts';
import { SKIP_WORDS, outcomeOf, serverAfter, type SkipReason, type ThroughputOutcome } from './throughput-outcome.ts';

export type { SkipReason, ThroughputOutcome } from './throughput-outcome.ts';

export { LIGHT_STORE_EVERY_MS, MIN_USEFUL_THROUGHPUT_BYTES, type MonitorDeps } from './monitor-deps.ts';

export class UplinkMonitor {
  readonly name: string;
  readonly #d: MonitorDeps;
  readonly #passive: PassiveView;
  #planner: PlannerState;
  #window: WindowEntry[] = [];
  #baseline: WindowSummary | undefined;
  #lastLight: ProbeSample | undefined;
  #lastThroughput: ThroughputOutcome | undefined;
  #lastStoredLightMs = Number.NEGATIVE_INFINITY;
  #lastThroughputMs = Number.NEGATIVE_INFINITY;
  #lightBadSinceThroughput = false;
  #targets: TargetBook = {};
  #server: ServerHealth = { failingSinceMs: null };
  #voids: VoidEvent[] = [];
  #lastSkip: SkipReason | undefined;
  #busy = false;
  /** When the running speed test last moved a byte (monotonic ms): a stalled test does not load the link. */
  #testMovedAtMono = Number.NEGATIVE_INFINITY;
  #testBytes = 0;
  #error: string | undefined;
  /** The targets each round chooses from, and those set aside (no source of their family). */
  readonly #pool: TargetPool;

  constructor(deps: MonitorDeps) {
    this.#d = deps;
    this.name = deps.uplink.name;
    this.#planner = initialPlanner(deps.cfg);
    this.#passive = new PassiveView(deps.uplink.interface, deps);
    this.#pool = new TargetPool(this.name, deps.targets, () => resolveSources(deps.uplink, deps.interfaces?.()), deps.log);
  }

  budget(nowMs: number): BudgetView {
    return budgetView(uplinkBudgetBytes(this.#d.uplink), this.#d.store.usedToday(this.name, nowMs));
  }

  #budgetStatus(nowMs: number): BudgetStatus {
    const b = this.budget(nowMs);
    return {
      ...b,
      resetAtMs: nowMs + msUntilNextUtcDay(nowMs),
      spent: throughputAllowance(b, 1, this.#d.cfg.throughput.maxBytes, MIN_USEFUL_THROUGHPUT_BYTES) === 0,
    };
  }

  nextDelayMs(): number {
    return nextDelayMs(this.#planner, this.#d.random());
  }

  #void(atMs: number, kind: ProbeSample['kind'], reason: VoidEvent['reason'], detail: string): void {
    this.#voids = [...this.#voids, { atMs, reason, detail }].slice(-MAX_VOID_EVENTS);
    this.#d.log.info({ uplink: this.name, kind, reason, detail }, 'measurement set aside: the agent cannot vouch for it');
  }

  /** One light round; emits, stores and exports the sample; returns it. */
  async lightRound(): Promise<ProbeSample> {
    const { cfg, clock } = this.#d;
    const { sources, failure, pool, changed, gone } = this.#pool.round(clock.nowMs());
    // a set-aside target's old verdict (silent, refused) would otherwise stay in notes and metrics, frozen
    if (gone.length > 0) {
      for (const id of gone) if (id in this.#targets) this.#d.metrics.targetGone(this.name, id);
      this.#targets = Object.fromEntries(Object.entries(this.#targets).filter(([id]) => !gone.includes(id)));
    }
    const ids = pool.map((t) => t.id);
    // targets joined (an IPv6 address came) or left: probe every one next round, so none counts as down unasked
    if (changed) this.#planner = { ...initialPlanner(cfg), last: this.#planner.last };
    const chosen = targetsForRound(this.#planner, cfg, pool.length).map((i) => pool[i] as ProbeTarget);
    // a round during this uplink's own throughput test measures the test's queue, not the link (unless the test stalled)
    const roundStartMono = clock.monoMs();
    const busyAtStart = this.#busy;
    let bytes = 0;
    let rtts: number[] = [];
    let probed: { id: string; up: boolean; lossless: boolean; refused: boolean }[] = [];
    let voidReason: ProbeSample['void'];
    try {
      // no IPv4 source, or no target usable: the round fails as a whole, over every target, as before
      if (failure !== null) throw new LwError(ProbeErrorCode.NO_SOURCE, failure);
      this.#error = undefined;
      const { v4, v6 } = sources;
      const r = await runLightRound(
        chosen,
        {
          clock,
          timeoutMs: cfg.timeoutMs,
          ...(v4.address ? { sourceAddress: v4.address } : {}),
          ...(v6.address ? { sourceAddress6: v6.address } : {}),
          ...(cfg.token ? { token: cfg.token } : {}),
        },
        this.#d.runner,
        this.#d.watch,
      );
      bytes = r.bytes;
      probed = r.outcomes.map((o) => ({ id: o.id, up: o.up, lossless: o.lossless, refused: o.refused }));
      // silence is evidence even when the agent was starved (starvation delays answers, it does not destroy them)
      if (overlapsLoadingTest(busyAtStart || this.#busy, this.#testMovedAtMono, roundStartMono)) voidReason = 'overlap';
      else if (r.disturbance && r.anyAnswer) voidReason = r.disturbance.reason;
      if (voidReason !== 'overlap') {
        rtts = r.disturbance?.reason === 'starved' ? [] : r.rtts;
        this.#window = [...this.#window, ...r.outcomes.flatMap((o) => o.entries)].slice(-cfg.windowPackets);
      }
      if (voidReason)
        this.#void(
          clock.nowMs(),
          'light',
          voidReason,
          voidReason === 'overlap' ? "probe round during this uplink's own speed test" : (r.disturbance?.detail ?? ''),
        );
    } catch (e) {
      this.#error = messageOf(e);
      probed = chosen.map((t) => ({ id: t.id, up: false, lossless: false, refused: false }));
      this.#window = [...this.#window, ...chosen.map((t) => ({ target: t.id, rttMs: null }))].slice(-cfg.windowPackets);
    }
    const nowMs = clock.nowMs();
    const facts = await this.#passive.refresh(nowMs);
    const settleAllowed = this.#d.view?.()?.health !== 'degraded';
    this.#planner = afterRound(this.#planner, cfg, settleAllowed ? probed : probed.map((p) => ({ ...p, lossless: false })), nowMs, ids.length);
    this.#targets = updateTargets(this.#targets, probed, nowMs);
    for (const [id, rec] of Object.entries(this.#targets)) this.#d.metrics.targetState(this.name, id, rec.condition);
    const q = quorumNow(this.#planner, cfg, ids, nowMs);
    const win = summariseWindow(this.#window);
    const rttMs = median(rtts);
    const budget = this.#budgetStatus(nowMs);
    const sample: ProbeSample = {
      uplink: this.name,
      kind: 'light',
      atMs: nowMs,
      ...(rttMs !== undefined ? { rttMs } : {}),
      ...(win.rttP95Ms !== undefined ? { rttP95Ms: win.rttP95Ms } : {}),
      ...(win.jitterMs !== undefined ? { jitterMs: win.jitterMs } : {}),
      ...(win.lossPercent !== undefined ? { lossPercent: win.lossPercent } : {}),
      ...(win.lossSamples !== undefined ? { lossSamples: win.lossSamples } : {}),
      targetsUp: q.up,
      targetsTotal: q.total,
      reachable: q.reachable,
      ...(facts.carrier !== undefined ? { carrier: facts.carrier } : {}),
      bytesUsed: bytes,
      ...(voidReason ? { void: voidReason } : {}),
      notes: this.notes(nowMs, budget),
      budget,
    };
    const th = cfg.health.thresholds;
    if (!voidReason && (!q.reachable || (win.lossPercent ?? 0) > th.lossPercent.degraded.enter)) this.#lightBadSinceThroughput = true;
    this.#d.store.addUsage(this.name, 'light', bytes, nowMs);
    if (nowMs - this.#lastStoredLightMs >= LIGHT_STORE_EVERY_MS || this.#lastLight?.reachable !== sample.reachable) {
      this.#d.store.storeOnly(sample);
      this.#lastStoredLightMs = nowMs;
    }
    this.#lastLight = sample;
    this.#d.metrics.observe(sample);
    this.#d.metrics.budget(this.name, budget.remainingBytes, budget.budgetBytes, budget.resetAtMs);
    this.#d.emit(sample);
    if (this.#baseline === undefined && this.#planner.cleanRounds >= 3) this.#baseline = win;
    return sample;
  }

  /** Operator notes as of `nowMs` (targets, server, budget, disturbance, expired figures). */
  notes(nowMs: number, budget = this.#budgetStatus(nowMs)): ReturnType<typeof buildNotes> {
    const t = this.#d.cfg.throughput;
    const unprobed = this.#pool.unprobed();
    const last = this.#lastThroughput?.sample ?? this.#d.store.latest(this.name, 'throughput');
    return buildNotes({
      nowMs,
      targets: this.#targets,
      server: this.#server,
      budget,
      throughputConfigured: t.url !== undefined,
      throughputEnabled: t.enabled,
      voids: this.#voids,
      ...(last ? { lastThroughput: last } : {}),
      ...(this.#lastSkip ? { lastSkip: SKIP_WORDS[this.#lastSkip] } : {}),
      policy: this.#d.cfg.health,
      ...(unprobed ? { unprobed } : {}),
    });
  }

  /** True when the last light rounds suggest a change worth an on-demand throughput probe (rate-limited). */
  wantsOnDemand(nowMs: number): boolean {
    const t = this.#d.cfg.throughput;
    if (!t.enabled || !t.url || !this.#lastLight || nowMs - this.#lastThroughputMs < t.onDemandMinGapMs) return false;
    const changed = suggestsChange(this.#baseline, summariseWindow(this.#window));
    if (changed) this.#baseline = undefined; // re-learn the new normal
    return changed;
  }

  /** True when only a throughput figure holds this uplink worse and it should be re-measured now (throughput-policy.ts). */
  wantsRecheck(nowMs: number): boolean {
    const t = this.#d.cfg.throughput;
    if (!t.enabled || !t.url || this.#busy) return false;
    return recheckDue({
      view: this.#d.view?.(),
      nowMs,
      lastThroughputMs: this.#lastThroughputMs,
      lightWasBad: this.#lightBadSinceThroughput,
      minGapMs: t.recheckMinGapMs,
      policy: this.#d.cfg.health,
    });
  }

  /** Throughput probe within the budget; `force` ignores the passive-traffic skip (on-demand from the CLI/API). */
  async throughput(
    opts: { download?: boolean; upload?: boolean; force?: boolean; onProgress?: (p: ThroughputProgress) => void } = {},
  ): Promise<ThroughputOutcome> {
    const { cfg, clock } = this.#d;
    const t = cfg.throughput;
    const skip = (why: SkipReason): ThroughputOutcome => {
      this.#lastSkip = why;
      this.#d.metrics.skipped(this.name, why);
      return { uplink: this.name, ran: false, skipped: why };
    };
    if (this.#d.stopping?.aborted) return skip('stopped');
    if (!t.enabled) return skip('disabled');
    if (!t.url) return skip('no_url');
    if (this.#busy) return skip('busy');
    const dirs = [...((opts.download ?? t.download) ? (['down'] as const) : []), ...((opts.upload ?? t.upload) ? (['up'] as const) : [])];
    if (dirs.length === 0) return skip('disabled');
    const startMs = clock.nowMs();
    const th = cfg.health.thresholds;
    const observed = this.#passive.provesThresholds(
      t.skipWhenObservedDownMbps ?? th.downloadMbps.degraded.exit,
      t.skipWhenObservedUpMbps ?? th.uploadMbps.degraded.exit,
    );
    if (!opts.force && observed) {
      const s: ProbeSample = {
        uplink: this.name,
        kind: 'passive',
        atMs: startMs,
        downloadMbps: observed.rxMbps,
        uploadMbps: observed.txMbps,
        ...this.#passive.carrierField(),
        bytesUsed: 0,
      };
      this.#d.store.record(s);
      this.#d.metrics.observe(s);
      this.#d.emit(s);
      this.#lastThroughputMs = startMs;
      this.#lightBadSinceThroughput = false;
      return { ...skip('traffic'), sample: s };
    }
    const perDirection = throughputAllowance(this.budget(startMs), dirs.length, t.maxBytes, MIN_USEFUL_THROUGHPUT_BYTES);
    if (perDirection === 0) return skip('budget');
    const { address: source, problem } = sourceOfHost(this.#pool.sources(), hostPort(t.url).host);
    if (problem) return { ...skip('no_source'), error: problem };
    this.#busy = true;
    this.#testMovedAtMono = clock.monoMs();
    this.#testBytes = 0;
    try {
      const url = t.url;
      const judged = await measure(
        {
          watch: this.#d.watch,
          cpuMs: this.#d.cpuMs ?? processCpuMs,
          monoMs: () => clock.monoMs(),
          allowance: () => throughputAllowance(this.budget(clock.nowMs()), 1, t.maxBytes, MIN_USEFUL_THROUGHPUT_BYTES),
          run: (direction, maxBytes) =>
            runThroughput({
              url,
              preset: t.preset,
              direction,
              streams: t.streams,
              maxBytes,
              maxDurationMs: t.maxDurationMs,
              minMeasureMs: t.minMeasureMs,
              stableTolerance: t.stableTolerance,
              clock,
              latencyTimeoutMs: cfg.timeoutMs,
              ...(source ? { sourceAddress: source } : {}),
              ...(cfg.token ? { token: cfg.token } : {}),
              ...(this.#lastLight?.rttMs !== undefined ? { rttHintMs: this.#lastLight.rttMs } : {}),
              ...(this.#d.stopping ? { signal: this.#d.stopping } : {}),
              onProgress: (p: ThroughputProgress) => {
                if (p.bytes !== this.#testBytes) this.#testMovedAtMono = clock.monoMs();
                this.#testBytes = p.bytes;
                opts.onProgress?.(p);
              },
            }),
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
    const r = outcomeOf(this.name, nowMs, judged);
    for (const v of r.suspects) {
      if (v.reason !== r.out.sample?.void) this.#d.metrics.voided(this.name, 'throughput', v.reason);
      this.#void(nowMs, 'throughput', v.reason, v.detail);
    }
    const s = r.out.sample as ProbeSample;
    this.#d.store.record(s);
    this.#d.metrics.observe(s);
    this.#server = serverAfter(this.#server, r, nowMs);
    if (r.failed) {
      this.#d.metrics.throughputFailed(this.name, r.failure ?? 'error');
      this.#d.log.warn(
        { uplink: this.name, errors: r.errors, bytes: [...judged.values()].map(bytesOf) },
        'throughput test failed: the speed-test server did not serve it',
      );
    } else if (r.errors.length > 0) this.#d.log.warn({ uplink: this.name, errors: r.errors }, 'throughput probe had errors');
    this.#d.metrics.throughputServerUp(this.name, this.#server.failingSinceMs === null);
    const b = this.#budgetStatus(nowMs);
    this.#d.metrics.budget(this.name, b.remainingBytes, b.budgetBytes, b.resetAtMs);
    this.#d.emit(s);
    this.#lastThroughputMs = nowMs;
    this.#lightBadSinceThroughput = false;
    this.#lastSkip = undefined;
    this.#lastThroughput = r.out;
    return r.out;
  }

  /** JSON-safe details for /v1/status. */
  details(nowMs: number): Record<string, unknown> {
    const unprobed = this.#pool.unprobed();
    return {
      targets: this.#d.targets.map((t) => t.id),
      targetHealth: this.#targets,
      intervalMs: this.#planner.intervalMs,
      budget: { ...this.#budgetStatus(nowMs), byKind: this.#d.store.usedTodayByKind(this.name, nowMs) },
      light: this.#lastLight ?? null,
      throughput: this.#lastThroughput?.sample ?? this.#d.store.latest(this.name, 'throughput') ?? null,
      throughputServer: this.#server,
      notes: this.notes(nowMs),
      observed: this.#passive.rates() ?? null,
      link: this.#passive.facts(),
      ...(this.#error ? { error: this.#error } : {}),
      ...(unprobed ? { unprobed: unprobed.targets.map((k) => `${k.id}: ${k.problem}`) } : {}),
    };
  }

  /** Number of configured light-probe targets. */
  targetCount(): number {
    return this.#d.targets.length;
  }

  lastLight(): ProbeSample | undefined {
    return this.#lastLight;
  }

  lastError(): string | undefined {
    return this.#error;
  }
}
