/** Probes one uplink: light rounds (adaptive), throughput on request within the daily budget, passive counters and link facts. */
import type { Clock } from '../agent/clock.ts';
import type { CommandRunner } from '../agent/exec.ts';
import type { Logger } from '../agent/log.ts';
import type { ProbeSample } from '../agent/core/types.ts';
import { uplinkBudgetBytes, type UplinkConfig } from '../agent/config/uplinks.ts';
import { messageOf } from '../agent/errors.ts';
import type { ProbesConfig } from './config.ts';
import { afterRound, initialPlanner, nextDelayMs, quorumNow, targetsForRound, type PlannerState } from './adaptive.ts';
import { budgetView, throughputAllowance, type BudgetView } from './budget.ts';
import { suggestsChange } from './change.ts';
import { runLightRound } from './light-round.ts';
import type { ProbeMetrics } from './metrics.ts';
import { ratesBetween, readCarrier, readCounters, readLinkFacts, trafficProvesThresholds, type IfCounters, type LinkFacts, type ObservedRates } from './passive.ts';
import { resolveSourceAddress, type InterfaceTable } from './source.ts';
import { median, summariseWindow, type WindowEntry, type WindowSummary } from './stats.ts';
import type { ProbeStore } from './store.ts';
import type { ProbeTarget } from './targets.ts';
import { runThroughput, type ThroughputResult } from './throughput.ts';

/** Light results are stored at most this often (plus on every reachability change); bytes are counted every round. */
export const LIGHT_STORE_EVERY_MS = 60_000;
/** Link facts via systeminformation are refreshed this often (it reads many sysfs files). */
export const FACTS_EVERY_MS = 30_000;
/** A throughput probe smaller than this per direction cannot be trusted; below it the budget counts as spent. */
export const MIN_USEFUL_THROUGHPUT_BYTES = 300_000;

export interface MonitorDeps {
  uplink: UplinkConfig;
  targets: ProbeTarget[];
  cfg: ProbesConfig;
  clock: Clock;
  log: Logger;
  store: ProbeStore;
  metrics: ProbeMetrics;
  runner: CommandRunner;
  emit(s: ProbeSample): void;
  random(): number;
  interfaces?: () => InterfaceTable;
  counters?: () => Promise<Map<string, IfCounters>>;
  facts?: (iface: string) => Promise<LinkFacts>;
  /** True while the link-state machine calls this uplink healthy; otherwise the interval stays at its base so recovery is seen quickly. */
  linkHealthy?: () => boolean;
}

export interface ThroughputOutcome {
  uplink: string;
  ran: boolean;
  skipped?: 'budget' | 'traffic' | 'no_url' | 'busy' | 'disabled' | 'no_source';
  /** Why it could not run (no_source). */
  error?: string;
  sample?: ProbeSample;
  download?: ThroughputResult;
  upload?: ThroughputResult;
}

export class UplinkMonitor {
  readonly name: string;
  readonly #d: MonitorDeps;
  #planner: PlannerState;
  #window: WindowEntry[] = [];
  #baseline: WindowSummary | undefined;
  #lastLight: ProbeSample | undefined;
  #lastThroughput: ThroughputOutcome | undefined;
  #lastStoredLightMs = Number.NEGATIVE_INFINITY;
  #lastThroughputMs = Number.NEGATIVE_INFINITY;
  #counters: { c: IfCounters; atMs: number } | undefined;
  #rates: ObservedRates | undefined;
  #facts: LinkFacts = {};
  #factsAtMs = Number.NEGATIVE_INFINITY;
  #busy = false;
  #error: string | undefined;

  constructor(deps: MonitorDeps) {
    this.#d = deps;
    this.name = deps.uplink.name;
    this.#planner = initialPlanner(deps.cfg);
  }

  budget(nowMs: number): BudgetView {
    return budgetView(uplinkBudgetBytes(this.#d.uplink), this.#d.store.usedToday(this.name, nowMs));
  }

  nextDelayMs(): number {
    return nextDelayMs(this.#planner, this.#d.random());
  }

  #source(): string | undefined {
    return resolveSourceAddress(this.#d.uplink, this.#d.interfaces?.());
  }

  async #passive(nowMs: number): Promise<void> {
    const iface = this.#d.uplink.interface;
    if (!iface) return;
    if (nowMs - this.#factsAtMs >= FACTS_EVERY_MS) {
      this.#factsAtMs = nowMs;
      this.#facts = await (this.#d.facts ?? readLinkFacts)(iface).catch(() => ({}));
    } else if (!this.#d.facts) {
      // Carrier changes must show within one round, not at the next 30 s facts refresh.
      const carrier = await readCarrier(iface);
      if (carrier !== undefined) this.#facts = { ...this.#facts, carrier };
    }
    const c = (await (this.#d.counters ?? readCounters)().catch(() => new Map<string, IfCounters>())).get(iface);
    if (!c) return;
    if (this.#counters) this.#rates = ratesBetween(this.#counters.c, this.#counters.atMs, c, nowMs) ?? this.#rates;
    this.#counters = { c, atMs: nowMs };
  }

  /** One light round; emits, stores and exports the sample; returns it. */
  async lightRound(): Promise<ProbeSample> {
    const { cfg, clock } = this.#d;
    const ids = this.#d.targets.map((t) => t.id);
    const chosen = targetsForRound(this.#planner, cfg, this.#d.targets.length).map((i) => this.#d.targets[i] as ProbeTarget);
    let source: string | undefined;
    let bytes = 0;
    let rtts: number[] = [];
    let probed: { id: string; up: boolean; lossless: boolean }[] = [];
    try {
      source = this.#source();
      this.#error = undefined;
      const r = await runLightRound(chosen, { clock, timeoutMs: cfg.timeoutMs, ...(source ? { sourceAddress: source } : {}), ...(cfg.token ? { token: cfg.token } : {}) }, this.#d.runner);
      bytes = r.bytes;
      rtts = r.rtts;
      probed = r.outcomes.map((o) => ({ id: o.id, up: o.up, lossless: o.lossless }));
      this.#window = [...this.#window, ...r.outcomes.flatMap((o) => o.entries)].slice(-cfg.windowPackets);
    } catch (e) {
      this.#error = messageOf(e);
      probed = chosen.map((t) => ({ id: t.id, up: false, lossless: false }));
      this.#window = [...this.#window, ...chosen.map((t) => ({ target: t.id, rttMs: null }))].slice(-cfg.windowPackets);
    }
    const nowMs = clock.nowMs();
    await this.#passive(nowMs);
    const settleAllowed = this.#d.linkHealthy?.() ?? true;
    this.#planner = afterRound(this.#planner, cfg, settleAllowed ? probed : probed.map((p) => ({ ...p, lossless: false })), nowMs, ids.length);
    const q = quorumNow(this.#planner, cfg, ids, nowMs);
    const win = summariseWindow(this.#window);
    const rttMs = median(rtts);
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
      ...(this.#facts.carrier !== undefined ? { carrier: this.#facts.carrier } : {}),
      bytesUsed: bytes,
    };
    this.#d.store.addUsage(this.name, 'light', bytes, nowMs);
    if (nowMs - this.#lastStoredLightMs >= LIGHT_STORE_EVERY_MS || this.#lastLight?.reachable !== sample.reachable) {
      this.#d.store.storeOnly(sample);
      this.#lastStoredLightMs = nowMs;
    }
    this.#lastLight = sample;
    this.#d.metrics.observe(sample);
    this.#exportBudget(nowMs);
    this.#d.emit(sample);
    if (this.#baseline === undefined && this.#planner.cleanRounds >= 3) this.#baseline = win;
    return sample;
  }

  /** True when the last light rounds suggest a change worth an on-demand throughput probe (rate-limited). */
  wantsOnDemand(nowMs: number): boolean {
    if (!this.#lastLight || nowMs - this.#lastThroughputMs < this.#d.cfg.throughput.onDemandMinGapMs) return false;
    const changed = suggestsChange(this.#baseline, summariseWindow(this.#window));
    if (changed) this.#baseline = undefined; // re-learn the new normal
    return changed;
  }

  #exportBudget(nowMs: number): void {
    const b = this.budget(nowMs);
    this.#d.metrics.budget(this.name, b.remainingBytes, b.budgetBytes);
  }

  /** Throughput probe within the budget; `force` ignores the passive-traffic skip (on-demand from the CLI/API). */
  async throughput(opts: { download?: boolean; upload?: boolean; force?: boolean } = {}): Promise<ThroughputOutcome> {
    const { cfg, clock } = this.#d;
    const t = cfg.throughput;
    const skip = (why: NonNullable<ThroughputOutcome['skipped']>): ThroughputOutcome => {
      this.#d.metrics.skipped(this.name, why);
      return { uplink: this.name, ran: false, skipped: why };
    };
    if (!t.url) return skip('no_url');
    if (this.#busy) return skip('busy');
    const dirs = [...((opts.download ?? t.download) ? (['down'] as const) : []), ...((opts.upload ?? t.upload) ? (['up'] as const) : [])];
    if (dirs.length === 0) return skip('disabled');
    const startMs = clock.nowMs();
    const th = cfg.health.thresholds;
    const needDown = t.skipWhenObservedDownMbps ?? th.downloadMbps.degraded.exit;
    const needUp = t.skipWhenObservedUpMbps ?? th.uploadMbps.degraded.exit;
    if (!opts.force && trafficProvesThresholds(this.#rates, needDown, needUp)) {
      const s: ProbeSample = { uplink: this.name, kind: 'passive', atMs: startMs, downloadMbps: this.#rates?.rxMbps as number, uploadMbps: this.#rates?.txMbps as number, ...(this.#facts.carrier !== undefined ? { carrier: this.#facts.carrier } : {}), bytesUsed: 0 };
      this.#d.store.record(s);
      this.#d.metrics.observe(s);
      this.#d.emit(s);
      this.#lastThroughputMs = startMs;
      return { ...skip('traffic'), sample: s };
    }
    const perDirection = throughputAllowance(this.budget(startMs), dirs.length, t.maxBytes, MIN_USEFUL_THROUGHPUT_BYTES);
    if (perDirection === 0) {
      this.#exportBudget(startMs);
      return skip('budget');
    }
    let source: string | undefined;
    try {
      source = this.#source();
    } catch (e) {
      return { ...skip('no_source'), error: messageOf(e) };
    }
    this.#busy = true;
    try {
      const out: ThroughputOutcome = { uplink: this.name, ran: true };
      for (const direction of dirs) {
        const r = await runThroughput({
          url: t.url, preset: t.preset, direction, streams: t.streams, maxBytes: perDirection, maxDurationMs: t.maxDurationMs, minMeasureMs: t.minMeasureMs, stableTolerance: t.stableTolerance, clock,
          ...(source ? { sourceAddress: source } : {}), ...(cfg.token ? { token: cfg.token } : {}),
          ...(this.#lastLight?.rttMs !== undefined ? { rttHintMs: this.#lastLight.rttMs } : {}),
        });
        if (direction === 'down') out.download = r;
        else out.upload = r;
      }
      const nowMs = clock.nowMs();
      const s: ProbeSample = {
        uplink: this.name,
        kind: 'throughput',
        atMs: nowMs,
        ...(out.download?.mbps !== undefined ? { downloadMbps: out.download.mbps } : {}),
        ...(out.upload?.mbps !== undefined ? { uploadMbps: out.upload.mbps } : {}),
        bytesUsed: (out.download?.bytesUsed ?? 0) + (out.upload?.bytesUsed ?? 0),
      };
      out.sample = s;
      this.#d.store.record(s);
      this.#d.metrics.observe(s);
      this.#exportBudget(nowMs);
      this.#d.emit(s);
      this.#lastThroughputMs = nowMs;
      this.#lastThroughput = out;
      const errs = [...(out.download?.errors ?? []), ...(out.upload?.errors ?? [])];
      if (errs.length > 0) this.#d.log.warn({ uplink: this.name, errors: errs }, 'throughput probe had errors');
      return out;
    } finally {
      this.#busy = false;
    }
  }

  /** JSON-safe details for /v1/status. */
  details(nowMs: number): Record<string, unknown> {
    return {
      targets: this.#d.targets.map((t) => t.id),
      intervalMs: this.#planner.intervalMs,
      budget: { ...this.budget(nowMs), byKind: this.#d.store.usedTodayByKind(this.name, nowMs) },
      light: this.#lastLight ?? null,
      throughput: this.#lastThroughput?.sample ?? this.#d.store.latest(this.name, 'throughput') ?? null,
      observed: this.#rates ?? null,
      link: this.#facts,
      ...(this.#error ? { error: this.#error } : {}),
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
