/** Probes one uplink: light rounds (adaptive), throughput within the daily budget, passive counters and link facts, and what it can vouch for. */
import type { BudgetStatus, ProbeSample } from '../agent/core/types.ts';
import { LwError, messageOf } from '../agent/base/errors.ts';
import { ProbeErrorCode } from './errors.ts';
import { afterRound, initialPlanner, nextDelayMs, quorumNow, targetsForRound, type PlannerState } from './adaptive.ts';
import type { BudgetView } from './budget.ts';
import { suggestsChange } from './change.ts';
import { runLightRound } from './light-round.ts';
import { buildNotes, type VoidEvent } from './notes.ts';
import { PassiveView } from './passive-view.ts';
import { LIGHT_STORE_EVERY_MS, MAX_VOID_EVENTS, type MonitorDeps } from './monitor-deps.ts';
import { resolveSources } from './source.ts';
import { TargetPool } from './target-pool.ts';
import { median, summariseWindow, type WindowEntry, type WindowSummary } from './stats.ts';
import { updateTargets, type TargetBook } from './target-health.ts';
import type { ProbeTarget } from './targets.ts';
import type { ThroughputOutcome } from './throughput-outcome.ts';
import { ThroughputTests, type ThroughputRequest } from './throughput-tests.ts';
import { budgetStatus, uplinkBudget } from './uplink-budget.ts';

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
  #lastStoredLightMs = Number.NEGATIVE_INFINITY;
  #targets: TargetBook = {};
  #voids: VoidEvent[] = [];
  #error: string | undefined;
  /** The targets each round chooses from, and those set aside (no source of their family). */
  readonly #pool: TargetPool;
  /** This uplink's throughput tests: the running one (its queue voids light rounds) and what the last ones found. */
  readonly #tests: ThroughputTests;

  constructor(deps: MonitorDeps) {
    this.#d = deps;
    this.name = deps.uplink.name;
    this.#planner = initialPlanner(deps.cfg);
    this.#passive = new PassiveView(deps.uplink.interface, deps);
    this.#pool = new TargetPool(this.name, deps.targets, () => resolveSources(deps.uplink, deps.interfaces?.()), deps.log);
    this.#tests = new ThroughputTests(deps, {
      passive: this.#passive,
      sources: () => this.#pool.sources(),
      rttHintMs: () => this.#lastLight?.rttMs,
      voided: (atMs, reason, detail) => this.#void(atMs, 'throughput', reason, detail),
    });
  }

  /** The uplink's daily budget at `nowMs`. */
  budget(nowMs: number): BudgetView {
    return uplinkBudget(this.#d, nowMs);
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
    const busyAtStart = this.#tests.busy();
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
      if (this.#tests.overlaps(busyAtStart, roundStartMono)) voidReason = 'overlap';
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
    const budget = budgetStatus(this.#d, nowMs);
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
    if (!voidReason && (!q.reachable || (win.lossPercent ?? 0) > th.lossPercent.degraded.enter)) this.#tests.noteLightBad();
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
  notes(nowMs: number, budget: BudgetStatus = budgetStatus(this.#d, nowMs)): ReturnType<typeof buildNotes> {
    const unprobed = this.#pool.unprobed();
    return buildNotes({
      nowMs,
      targets: this.#targets,
      budget,
      voids: this.#voids,
      ...this.#tests.noteInput(),
      policy: this.#d.cfg.health,
      ...(unprobed ? { unprobed } : {}),
    });
  }

  /** True when the last light rounds suggest a change worth an on-demand throughput probe (rate-limited). */
  wantsOnDemand(nowMs: number): boolean {
    const t = this.#d.cfg.throughput;
    if (!t.enabled || !t.url || !this.#lastLight || nowMs - this.#tests.lastMs() < t.onDemandMinGapMs) return false;
    const changed = suggestsChange(this.#baseline, summariseWindow(this.#window));
    if (changed) this.#baseline = undefined; // re-learn the new normal
    return changed;
  }

  /** True when only a throughput figure holds this uplink worse and it should be re-measured now (throughput-policy.ts). */
  wantsRecheck(nowMs: number): boolean {
    return this.#tests.wantsRecheck(nowMs);
  }

  /** Throughput probe within the budget; `force` ignores the passive-traffic skip (on-demand from the CLI/API). */
  throughput(opts: ThroughputRequest = {}): Promise<ThroughputOutcome> {
    return this.#tests.run(opts);
  }

  /** JSON-safe details for /v1/status. */
  details(nowMs: number): Record<string, unknown> {
    const unprobed = this.#pool.unprobed();
    return {
      targets: this.#d.targets.map((t) => t.id),
      targetHealth: this.#targets,
      intervalMs: this.#planner.intervalMs,
      budget: { ...budgetStatus(this.#d, nowMs), byKind: this.#d.store.usedTodayByKind(this.name, nowMs) },
      light: this.#lastLight ?? null,
      throughput: this.#tests.lastSample() ?? null,
      throughputServer: this.#tests.server(),
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
