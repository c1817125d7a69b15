/** The route component: turns link snapshots into the active uplink, moves the default route with commit-confirm, repairs drift. */
import type { AgentContext, Component, ComponentStatus, HttpRoute } from '../runtime/component.ts';
import { messageOf } from '../base/errors.ts';
import { createCoalescer } from '../base/coalesce.ts';
import type { CommandRunner } from '../base/exec.ts';
import type { RouteActuator } from './actuator.ts';
import { createApplyGate, TROUBLE_RETRY_MS } from './apply-gate.ts';
import type { Connector } from './confirm.ts';
import { createConntrackFlusher } from './conntrack.ts';
import { Ipv6Follower } from './follow6.ts';
import { KernelSync } from './kernel-sync.ts';
import { SwitchRunner } from './switch-runner.ts';
import { LATE_DECISION_HOLD_DOWN_MS } from './switch-step.ts';
import type { K3sFacts, K3sPinning } from './k3s.ts';
import { registerRouteMetrics } from './metrics.ts';
import { cleanupCommands } from './plan.ts';
import { restoreDefaults } from './restore.ts';
import { WallStepWatch } from '../base/wall-step.ts';
import { initialPolicyState, type PolicyState } from './policy.ts';
import type { RouteTarget } from './reconcile.ts';
import { routeHttpRoutes } from './routes.ts';
import { createRouteStore, type RouteStore } from './store.ts';
import { createUseRequests } from './use-requests.ts';
import { evaluateOnce, type EvaluationDeps } from './evaluate.ts';
import { startRoute, type StartupDeps } from './startup.ts';
import { currentDetails, routeStatus, type StatusDeps } from './status.ts';
import { autoUplink, useUplink, type OverrideDeps } from './override.ts';
import { routeSettings } from './settings.ts';

/** The component's adapters, all injected: the composition root passes the real ones (adapters.ts), tests and the lab fakes. */
export interface RouteDeps {
  actuator: RouteActuator;
  k3sFacts: () => K3sFacts;
  connector: Connector;
  systemdRunning: boolean;
  ipPath: string;
  /** Runs `conntrack`; null: never flush (a faked kernel must never flush the host's table). */
  conntrackRunner: CommandRunner | null;
  /** Path of the conntrack binary (`conntrack` from PATH in production). */
  conntrackPath: string;
}

export interface RouteComponent extends Component {
  /** Operator override (`linkward route use`); `forMs` null = until `route auto`. `requestId` names the request for polling. */
  use(uplink: string, forMs: number | null, requestId?: string): Promise<void>;
  auto(): Promise<void>;
  /** Runs one evaluation now and waits for it (and any switch it starts). */
  evaluateNow(): Promise<void>;
  details(): Record<string, unknown>;
}

export function createRouteComponent(ctx: AgentContext, deps: RouteDeps): RouteComponent {
  const log = ctx.log.child({ component: 'route' });
  const policy = ctx.config.failover;
  const { policyCfg, configured, uplinks, idle, puplinks, opts } = routeSettings(ctx.config);
  const actuator = deps.actuator;
  const metrics = registerRouteMetrics(
    ctx.metrics,
    uplinks.map((u) => u.name),
  );
  const conntrackRunner = deps.conntrackRunner;
  const conntrack =
    policy.flushConntrack && conntrackRunner
      ? createConntrackFlusher({ runner: conntrackRunner, log, dryRun: policy.dryRun, metrics, conntrackPath: deps.conntrackPath })
      : null;
  const kernel = new KernelSync({ actuator, log, metrics });
  const runner = new SwitchRunner({
    policy,
    uplinks,
    probeTargets: ctx.config.probes.targets,
    clock: ctx.clock,
    log,
    metrics,
    stateDir: ctx.stateDir,
    ipPath: deps.ipPath,
    systemdRunning: deps.systemdRunning,
    connector: deps.connector,
    actuator,
    conntrack,
    knownSources: () => kernel.knownSources,
    store: () => store!,
  });
  let store: RouteStore | null = null;
  let state: PolicyState = initialPolicyState();
  const steps = new WallStepWatch(ctx.clock);
  let pinning: K3sPinning | null = null;
  let lastWhy = 'not started';
  const gate = createApplyGate(Math.min(TROUBLE_RETRY_MS, policy.reapplyInterval));
  let stopTimer: (() => void) | null = null;
  let unsubscribe: (() => void) | null = null;
  const requests = createUseRequests();
  /** linkUp of the running evaluation, for the IPv6 follow-up's targets. */
  let evalLinkUp: Record<string, boolean> = {};
  const follower = new Ipv6Follower({
    configured,
    opts,
    actuator,
    metrics,
    log,
    recheckMs: policy.reapplyInterval,
    holdDownMs: policy.holdDown,
    lateHoldDownMs: LATE_DECISION_HOLD_DOWN_MS,
    commit: (active) =>
      runner.commit(
        active,
        { ...target(active, evalLinkUp), hold6: false },
        { ...target(active, evalLinkUp), hold6: true },
        { from: active, to: active, reason: 'ipv6' },
      ),
    nowMs: () => ctx.clock.nowMs(),
    saveHolds: (h) => store?.saveIpv6Holds(h),
  });

  const routesAllowed = (): boolean => policy.manageRoutes && !idle && (pinning === null || !pinning.present || pinning.pinned || policy.allowUnpinnedK3s);
  const target = (active: string | null, linkUp: Record<string, boolean> = {}): RouteTarget => ({
    uplinks: configured,
    active,
    linkUp,
    opts,
    downByUs: kernel.downByUs,
    ...(follower.holds(active) ? { hold6: true } : {}),
  });
  const announce = (name: string | null): void => {
    metrics.setActive(name);
    ctx.bus.emit('active', name);
  };
  const save = (): void => store?.savePolicy(state);

  async function applyDesired(linkUp: Record<string, boolean>): Promise<void> {
    if (routesAllowed()) await kernel.apply(target(state.active, linkUp), store);
  }

  /** What the component's parts (evaluate.ts with switch-step.ts, startup.ts, status.ts, override.ts) read and set of it. */
  const core: EvaluationDeps & StartupDeps & StatusDeps & OverrideDeps = {
    policy,
    idle,
    uplinks,
    configured,
    opts,
    actuator,
    log,
    metrics,
    kernel,
    conntrack,
    follower,
    runner,
    requests,
    steps,
    gate,
    puplinks,
    policyCfg,
    k3sFacts: deps.k3sFacts,
    routesAllowed,
    refusal: () => pinning?.message,
    store: () => store,
    target,
    state: () => state,
    setState: (s) => {
      state = s;
    },
    pinning: () => pinning,
    setPinning: (p) => {
      pinning = p;
    },
    why: () => lastWhy,
    setWhy: (why) => {
      lastWhy = why;
    },
    setLinkUp: (linkUp) => {
      evalLinkUp = linkUp;
    },
    latestLink: () => ctx.bus.latestLink(),
    applyDesired,
    save,
    announce,
    nowMs: () => ctx.clock.nowMs(),
  };

  const evaluate = (): Promise<void> => evaluateOnce(core);
  /** Serialises evaluations: snapshots arriving during a switch collapse into one follow-up evaluation. */
  const evaluations = createCoalescer(evaluate, (e) => {
    kernel.lastError = messageOf(e);
    log.error({ err: e }, 'route evaluation failed');
  });
  const schedule = (): Promise<void> => evaluations.run();

  function armTicker(): void {
    stopTimer = ctx.clock.setTimer(policy.reapplyInterval, () => {
      gate.tick();
      void schedule().finally(() => {
        if (stopTimer) armTicker();
      });
    });
  }

  return {
    name: 'route',
    async start() {
      store = createRouteStore(ctx.stateDb);
      await startRoute(core, store);
      if (idle) return;
      unsubscribe = ctx.bus.on('link', () => void schedule());
      armTicker();
      await schedule();
    },
    async stop() {
      unsubscribe?.();
      unsubscribe = null;
      stopTimer?.();
      stopTimer = null;
      await evaluations.idle();
      await runner.stop();
      if (policy.restoreOnStop && routesAllowed() && store) await restoreDefaults(actuator, store, opts, log);
      if (policy.cleanupOnStop && routesAllowed()) await actuator.apply(cleanupCommands(await actuator.read(), opts));
    },
    status(): ComponentStatus {
      return routeStatus(core, () => this.details());
    },
    routes(): HttpRoute[] {
      return routeHttpRoutes(this);
    },
    async use(uplink, forMs, requestId) {
      await useUplink(core, evaluations, uplink, forMs, requestId);
    },
    async auto() {
      await autoUplink(core, evaluations);
    },
    async evaluateNow() {
      await schedule();
      await runner.flushed();
    },
    details() {
      return currentDetails(core);
    },
  };
}
