/** Runs route switches for the route component: commit-confirm with the pre-started revert helper, confirm targets, conntrack flushes after. */
import type { Clock } from '../base/clock.ts';
import type { Logger } from '../base/log.ts';
import type { RoutePolicyConfig } from '../config/route.ts';
import type { UplinkConfig } from '../config/uplinks.ts';
import { confirmReachable, parseEndpoint, type Connector, type Endpoint } from './confirm.ts';
import type { ConntrackFlusher } from './conntrack.ts';
import type { RouteMetrics } from './metrics.ts';
import type { RouteTarget } from './reconcile.ts';
import { chooseLauncher, createRevertHelper, sharedMonoMs, type RevertHelper } from './revert-helper.ts';
import type { PendingSwitch, RouteStore } from './store.ts';
import { recoverPending } from './rollback.ts';
import { commitSwitch, type SwitchDeps, type SwitchOutcome } from './switcher.ts';

export interface SwitchRunnerDeps {
  policy: RoutePolicyConfig;
  /** The configured uplinks (their own confirm targets) and the probes' targets (the fallback). */
  uplinks: readonly UplinkConfig[];
  probeTargets: readonly string[];
  clock: Clock;
  log: Logger;
  metrics: RouteMetrics;
  stateDir: string;
  ipPath: string;
  systemdRunning: boolean;
  connector: Connector;
  actuator: SwitchDeps['actuator'];
  conntrack: ConntrackFlusher | null;
  /** Last source address seen per uplink (the kernel side keeps it). */
  knownSources: () => Readonly<Record<string, string>>;
  /** state.db's route store (set once the component started). */
  store: () => RouteStore;
}

/** One per route component: the switch itself is switcher.ts; this holds what every switch shares. */
export class SwitchRunner {
  readonly #d: SwitchRunnerDeps;
  #helper: RevertHelper | null = null;
  /** Conntrack flushes run after the switch is announced, serialised here; stop() waits for them. */
  #flushes: Promise<void> = Promise.resolve();

  constructor(deps: SwitchRunnerDeps) {
    this.#d = deps;
  }

  /** Where a switch to `to` is confirmed: failover.confirmTargets, else the uplink's own targets, else the probes'. */
  #confirmTargets(to: string): Endpoint[] {
    const u = this.#d.uplinks.find((x) => x.name === to);
    const list = this.#d.policy.confirmTargets.length > 0 ? this.#d.policy.confirmTargets : (u?.targets ?? this.#d.probeTargets);
    return list.map(parseEndpoint).filter((e): e is Endpoint => e !== null);
  }

  #revertHelper(): RevertHelper {
    this.#helper ??= createRevertHelper({
      stateDir: this.#d.stateDir,
      launcher: chooseLauncher(this.#d.policy.revertLauncher, this.#d.systemdRunning),
      log: this.#d.log,
      onRestart: () => this.#d.metrics.helperRestarts.inc(),
    });
    return this.#helper;
  }

  #deps(to: string): SwitchDeps {
    const d = this.#d;
    return {
      actuator: d.actuator,
      clock: d.clock,
      log: d.log,
      store: d.store(),
      stateDir: d.stateDir,
      dryRun: d.policy.dryRun,
      ipPath: d.ipPath,
      helper: this.#revertHelper(),
      sharedMono: sharedMonoMs,
      conntrack: d.conntrack,
      knownSources: d.knownSources,
      confirm: (withinMs, families) => confirmReachable(this.#confirmTargets(to), withinMs, d.clock, d.connector, families),
    };
  }

  /** Pre-starts the revert helper, so that arming a switch is a message, not a process start (4.3 s under load). */
  async startHelper(): Promise<void> {
    await this.#revertHelper()
      .start()
      .catch((e: unknown) => this.#d.log.error({ err: e }, 'route revert helper did not start; the next switch retries'));
  }

  /** Moves to `next` with commit-confirm (back to `previous` on failure). */
  commit(to: string, next: RouteTarget, previous: RouteTarget, info: Omit<PendingSwitch, 'planFile' | 'startedMs'>): Promise<SwitchOutcome> {
    const { policy } = this.#d;
    return commitSwitch(this.#deps(to), next, previous, info, { confirmTimeoutMs: policy.confirmTimeout, revertGraceMs: policy.revertGrace });
  }

  /** Queues a switch's conntrack flush: in the background, one at a time (flushConntrack never throws). */
  afterward(flush: () => Promise<void>): void {
    this.#flushes = this.#flushes.then(flush);
  }

  /** A switch the agent died in the middle of, reverted to `previous` (null: none was pending). */
  recover(previous: (p: PendingSwitch) => RouteTarget): Promise<PendingSwitch | null> {
    return recoverPending(this.#deps(''), previous);
  }

  /** Resolves once the queued conntrack flushes ran. */
  flushed(): Promise<void> {
    return this.#flushes;
  }

  /** Waits for the flushes, then stops the helper. */
  async stop(): Promise<void> {
    await this.#flushes;
    await this.#helper?.stop();
    this.#helper = null;
  }

  details(): { pid: number | null; restarts: number } | null {
    return this.#helper ? { pid: this.#helper.pid(), restarts: this.#helper.restarts() } : null;
  }
}
