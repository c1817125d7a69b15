/** The route component: turns link snapshots into the active uplink, moves the default route with commit-confirm, repairs drift. */
import type { AgentContext, Component, ComponentStatus, HttpRoute } from '../runtime/component.ts';
import type { LinkSnapshot } from '../core/types.ts';
import { effectiveUplinks, type UplinkConfig } from '../config/uplinks.ts';
import { messageOf } from '../base/errors.ts';
import { createCoalescer } from '../base/coalesce.ts';
import type { CommandRunner } from '../base/exec.ts';
import type { RouteActuator } from './actuator.ts';
import { createApplyGate, TROUBLE_RETRY_MS } from './apply-gate.ts';
import type { Connector } from './confirm.ts';
import { createConntrackFlusher } from './conntrack.ts';
import { Ipv6Follower } from './follow6.ts';
import { RouteErrorCode } from './errors.ts';
import { KernelSync } from './kernel-sync.ts';
import { SwitchRunner } from './switch-runner.ts';
import { LATE_DECISION_HOLD_DOWN_MS, switchStep, type SwitchStepDeps } from './switch-step.ts';
import { k3sPinning, type K3sFacts, type K3sPinning } from './k3s.ts';
import { registerRouteMetrics } from './metrics.ts';
import { cleanupCommands, currentActive, resolveUplinks, type PlanOptions } from './plan.ts';
import { captureOriginalDefaults, restoreDefaults } from './restore.ts';
import { restoredPolicy, shiftedPolicy } from './policy-restore.ts';
import { heldShiftMs, WallStepWatch } from '../base/wall-step.ts';
import { initialPolicyState, rolledBack, step, withOverride, type PolicyState, type PolicyUplink } from './policy.ts';
import type { RouteTarget } from './reconcile.ts';
import { routeDetails } from './details.ts';
import { routeHttpRoutes } from './routes.ts';
import { createRouteStore, type RouteStore } from './store.ts';
import { createUseRequests } from './use-requests.ts';

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

const emptySnapshot = (nowMs: number): LinkSnapshot => ({ atMs: nowMs, node: 'unknown', active: null, uplinks: {} });

export function createRouteComponent(ctx: AgentContext, deps: RouteDeps): RouteComponent {
  const log = ctx.log.child({ component: 'route' });
  const policy = ctx.config.failover;
  // The link-state thresholds (probes.health once mounted), so the policy can tell loss blips from lasting degradation.
  // The probe timeout, so a forced move waits for a candidate that answered after the active uplink's failure began.
  const policyCfg = { ...policy, health: ctx.config.probes.health, probeTimeoutMs: ctx.config.probes.timeoutMs };
  const configured: UplinkConfig[] = [...ctx.config.uplinks];
  const uplinks = effectiveUplinks(configured);
  const idle = configured.length < 2;
  const puplinks: PolicyUplink[] = uplinks.map((u) => ({ name: u.name, priority: u.priority, idleDown: u.idleDown, warmupMs: u.warmup }));
  const opts: PlanOptions = {
    perUplinkTables: policy.perUplinkTables,
    tableBase: policy.tableBase,
    routeProto: policy.routeProto,
    mainMetric: policy.mainMetric,
  };
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

  const switching: SwitchStepDeps = {
    policy,
    idle,
    routesAllowed,
    refusal: () => pinning?.message,
    runner,
    metrics,
    follower,
    requests,
    store: () => store,
    target,
    state: () => state,
    setState: (s) => {
      state = s;
    },
    announce,
    nowMs: () => ctx.clock.nowMs(),
  };

  async function evaluateOnce(): Promise<void> {
    const { stepMs, suspendMs } = steps.take();
    const shiftMs = heldShiftMs({ stepMs, suspendMs }); // a hold counts awake time, never the sleep
    if (shiftMs !== 0) {
      state = shiftedPolicy(state, shiftMs);
      follower.shift(shiftMs);
      const what = stepMs !== 0 ? 'wall clock stepped' : 'system was suspended';
      log.warn({ stepMs, suspendMs }, `${what}; failback holds, hold-downs and switch caps keep their lengths`);
    }
    const now = ctx.clock.nowMs();
    const snap = ctx.bus.latestLink() ?? emptySnapshot(now);
    const r = step(state, puplinks, snap, policyCfg, now);
    state = r.state;
    if (r.action.kind === 'switch') {
      lastWhy = r.action.why;
      log.info({ from: r.action.from, to: r.action.to, reason: r.action.reason }, r.action.why);
      lastWhy = (await switchStep(switching, r.action.to, r.action.reason, r.linkUp)) ?? lastWhy;
    } else lastWhy = r.action.why;
    evalLinkUp = r.linkUp;
    const why6 = routesAllowed() ? await follower.follow(state.active, now) : null;
    if (why6) lastWhy = `${lastWhy}; ${why6}`;
    if (gate.due(state.active, r.linkUp, snap, r.action.kind === 'switch', kernel.trouble(), now)) {
      await applyDesired(r.linkUp);
      gate.applied(state.active, r.linkUp, snap);
    }
    save();
  }

  /** Serialises evaluations: snapshots arriving during a switch collapse into one follow-up evaluation. */
  const evaluations = createCoalescer(evaluateOnce, (e) => {
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
      kernel.downByUs = store.loadDownByUs();
      follower.restore(store.loadIpv6Holds(), ctx.clock.nowMs());
      pinning = k3sPinning(deps.k3sFacts());
      if (!idle && policy.manageRoutes && !routesAllowed())
        log.warn({ code: RouteErrorCode.K3S_UNPINNED, k3s: pinning }, `route switching refused: ${pinning.message}`);
      state = restoredPolicy(store.loadPolicy(), ctx.clock.nowMs(), policy.holdDown);
      if (idle) {
        state = { ...state, active: uplinks[0]!.name };
        lastWhy = 'fewer than 2 uplinks configured: failover idle';
        announce(state.active);
        return;
      }
      // Before any change: the default routes to restore on stop (restore.ts).
      if (routesAllowed()) await captureOriginalDefaults(actuator, store, opts, log);
      if (routesAllowed() && !policy.dryRun) await runner.startHelper();
      if (routesAllowed()) {
        // back to the state before the switch with IPv6 held (whether it was is not stored): the safe side; start()
        // below then takes the uplink that carries the host's IPv6 default as the status quo
        const recovered = await runner.recover((p) => ({ ...target(p.from), hold6: true }));
        if (recovered?.reason === 'ipv6') follower.recovered(recovered.to, ctx.clock.nowMs());
        else if (recovered) state = rolledBack(state, recovered.from, recovered.to, policy, ctx.clock.nowMs());
        if (recovered) metrics.rollbacks.inc();
      }
      if (state.active === null) {
        const kernel = await actuator.read().catch(() => null);
        if (kernel) state = { ...state, active: currentActive(resolveUplinks(configured, kernel, opts).uplinks, kernel) };
      }
      if (state.active !== null) announce(state.active);
      if (routesAllowed()) follower.start(await actuator.read().catch(() => null));
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
      if (idle) return { state: 'disabled', message: `failover idle: ${configured.length} uplink(s) configured, need 2`, details: this.details() };
      const refused = !routesAllowed() && policy.manageRoutes;
      const bad = refused || kernel.problems.length > 0 || kernel.lastError !== null;
      const message = refused
        ? `route switching refused: ${pinning?.message}`
        : (kernel.lastError ?? kernel.problems[0] ?? `active uplink ${state.active ?? 'none'}: ${lastWhy}`);
      return { state: bad ? 'degraded' : 'ok', message, details: this.details() };
    },
    routes(): HttpRoute[] {
      return routeHttpRoutes(this);
    },
    async use(uplink, forMs, requestId) {
      const req = requests.open(requestId ?? `r${ctx.clock.nowMs()}`, uplink, ctx.clock.nowMs());
      state = withOverride(state, uplink, forMs === null ? null : ctx.clock.nowMs() + forMs);
      save();
      // Wait for an evaluation that started after the override was set (a running one may predate it).
      await evaluations.idle();
      requests.focus(req);
      try {
        await schedule();
      } finally {
        requests.focus(null);
      }
      requests.close(req, state.active, lastWhy);
    },
    async auto() {
      state = withOverride(state, null, null);
      save();
      await schedule();
    },
    async evaluateNow() {
      await schedule();
      await runner.flushed();
    },
    details() {
      return routeDetails({
        policy,
        state,
        routesManaged: routesAllowed(),
        pinning,
        lastDecision: lastWhy,
        kernel,
        conntrack,
        follower,
        uplinks,
        link: ctx.bus.latestLink(),
        store,
        requests,
        runner,
        nowMs: ctx.clock.nowMs(),
      });
    },
  };
}
