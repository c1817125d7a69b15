/** The link component: feeds probe samples and the active uplink into the link-state machine, publishes `link` snapshots. */
import type { AgentContext, Component, ComponentStatus, HttpRoute } from '../runtime/component.ts';
import type { LinkSnapshot, ProbeSample } from '../core/types.ts';
import { effectiveUplinks } from '../config/uplinks.ts';
import { codeOf, messageOf } from '../base/errors.ts';
import { decayedPenalty, releaseAtMs } from '../core/damping.ts';
import { shiftLinkState } from '../core/link-shift.ts';
import { heldShiftMs, WallStepWatch } from '../base/wall-step.ts';
import {
  evaluate,
  initialLinkState,
  nextDeadlineMs,
  setActive,
  step,
  toSnapshot,
  type LinkState,
  type StepResult,
  type Transition,
} from '../core/link-state.ts';
import type { LinkHealthConfig } from '../config/link.ts';
import { registerLinkMetrics, type LinkMetrics } from './metrics.ts';
import { linkRoutes } from './routes.ts';
import { LinkStore } from './store.ts';

/** Longest wait between evaluations without samples: staleness and dwell are checked at least this often. */
export const LINK_MAX_TICK_MS = 5_000;
/** Shortest timer, so a burst of deadlines cannot spin the event loop. */
const LINK_MIN_TICK_MS = 50;
/** Damping penalties are saved at most this often between transitions (a crash loses at most this much decay history). */
const DAMPING_SAVE_INTERVAL_MS = 60_000;
/** Transitions shown in status details and /v1/link. */
const RECENT_TRANSITIONS = 20;

export interface LinkComponentOptions {
  /** Health policy; default: `ctx.config.probes.health` (already parsed and typed by the config schema). */
  health?: LinkHealthConfig;
  /** Uplink names, preferred first; default: configured uplinks sorted by priority. */
  uplinks?: string[];
}

export function createLinkComponent(ctx: AgentContext, opts: LinkComponentOptions = {}): Component {
  const log = ctx.log.child({ component: 'link' });
  const policy = opts.health ?? ctx.config.probes.health;
  const order =
    opts.uplinks ??
    effectiveUplinks(ctx.config.uplinks)
      .sort((a, b) => a.priority - b.priority)
      .map((u) => u.name);
  let store: LinkStore | null = null;
  let state: LinkState = initialLinkState(order, ctx.clock.nowMs());
  const steps = new WallStepWatch(ctx.clock);
  /** The state with its times moved by any step of the wall clock or suspend since the last call (link-shift.ts, heldShiftMs). */
  const current = (): LinkState => {
    const jump = steps.take();
    if (jump.stepMs !== 0) log.warn({ stepMs: jump.stepMs }, 'wall clock stepped; link dwells, figure ages and damping keep their lengths');
    if (jump.suspendMs !== 0) log.info({ suspendMs: jump.suspendMs }, 'system was suspended; link dwells, figure ages and damping count awake time');
    state = shiftLinkState(state, heldShiftMs(jump));
    return state;
  };
  let snapshot: LinkSnapshot | null = null;
  let metrics: LinkMetrics | null = null;
  let cancelTimer: (() => void) | null = null;
  let unsubscribe: (() => void)[] = [];
  let lastDampingSaveMs = 0;
  let storeErrors = 0;
  let running = false;

  const persist = (fn: (s: LinkStore) => void, what: string): void => {
    if (!store) return;
    try {
      fn(store);
    } catch (e) {
      storeErrors++;
      log.warn({ code: codeOf(e), err: messageOf(e) }, `could not save link ${what}; state keeps working in memory`);
    }
  };

  const saveDamping = (nowMs: number): void => {
    lastDampingSaveMs = nowMs;
    persist((s) => s.saveDamping(Object.fromEntries(Object.values(state.uplinks).map((u) => [u.name, u.damping]))), 'damping');
  };

  const apply = (r: StepResult): void => {
    const nowMs = ctx.clock.nowMs();
    state = r.state;
    if (r.transitions.length > 0) {
      logTransitions(r.transitions);
      metrics?.count(r.transitions);
      persist((s) => s.saveTransitions(r.transitions), 'transitions');
      saveDamping(nowMs);
    } else if (nowMs - lastDampingSaveMs >= DAMPING_SAVE_INTERVAL_MS && Object.values(state.uplinks).some((u) => u.damping.penalty > 0)) {
      saveDamping(nowMs);
    }
    snapshot = toSnapshot(state, nowMs);
    ctx.bus.emit('link', snapshot);
    schedule(nowMs);
  };

  const logTransitions = (list: readonly Transition[]): void => {
    for (const t of list) {
      const fields = { uplink: t.uplink ?? undefined, from: t.from, to: t.to, reasons: t.reasons };
      const msg = t.uplink === null ? `node link ${t.from} → ${t.to}` : `uplink ${t.uplink} ${t.from} → ${t.to}`;
      if (t.to === 'down' || t.to === 'degraded') log.warn(fields, msg);
      else log.info(fields, msg);
    }
  };

  const schedule = (nowMs: number): void => {
    if (!running) return;
    cancelTimer?.();
    const deadline = nextDeadlineMs(state, nowMs, policy);
    const delay = Math.max(LINK_MIN_TICK_MS, Math.min(LINK_MAX_TICK_MS, deadline === null ? LINK_MAX_TICK_MS : deadline - nowMs));
    cancelTimer = ctx.clock.setTimer(delay, () => {
      cancelTimer = null;
      if (running) apply(evaluate(current(), ctx.clock.nowMs(), policy));
    });
  };

  const onSample = (s: ProbeSample): void => apply(step(current(), s, ctx.clock.nowMs(), policy));
  const onActive = (name: string | null): void => apply(setActive(current(), name, ctx.clock.nowMs(), policy));

  const details = (): Record<string, unknown> => {
    const nowMs = ctx.clock.nowMs();
    const uplinks = Object.fromEntries(
      Object.values(state.uplinks).map((u) => [
        u.name,
        {
          health: u.health,
          sinceMs: u.sinceMs,
          reasons: u.reasons,
          penalty: Math.round(decayedPenalty(u.damping, nowMs, policy.damping)),
          suppressed: u.damping.suppressed,
          dampedUntilMs: releaseAtMs(u.damping, policy.damping),
          lastFlapMs: u.damping.lastFlapMs ?? null,
          pending: u.pending,
        },
      ]),
    );
    let recent: Transition[] = [];
    persist((s) => (recent = s.recentTransitions(RECENT_TRANSITIONS)), 'history read');
    return { node: state.node, nodeSinceMs: state.nodeSinceMs, active: snapshot?.active ?? null, uplinks, recentTransitions: recent, storeErrors };
  };

  return {
    name: 'link',
    async start(): Promise<void> {
      try {
        store = new LinkStore(ctx.stateDb);
      } catch (e) {
        storeErrors++;
        log.warn({ code: codeOf(e), err: messageOf(e) }, 'link history unavailable (state DB error); running without persistence');
      }
      let damping = {};
      persist((s) => (damping = s.loadDamping()), 'damping load');
      // A restart never fakes health: every uplink starts unknown, only the damping penalty survives.
      state = initialLinkState(order, ctx.clock.nowMs(), damping);
      // Registered once per component: a second start() must not re-register the same names on the registry.
      metrics ??= registerLinkMetrics(ctx.metrics, () => ({ state, nowMs: ctx.clock.nowMs(), policy }));
      running = true;
      unsubscribe = [ctx.bus.on('sample', onSample), ctx.bus.on('active', onActive)];
      apply(setActive(state, ctx.bus.latestActive(), ctx.clock.nowMs(), policy));
      log.info({ uplinks: order, restoredDamping: Object.keys(damping) }, 'link state started (unknown until the first measurement)');
    },
    async stop(): Promise<void> {
      running = false;
      cancelTimer?.();
      cancelTimer = null;
      for (const u of unsubscribe) u();
      unsubscribe = [];
      saveDamping(ctx.clock.nowMs());
    },
    status(): ComponentStatus {
      const node = state.node;
      const active = snapshot?.active ?? null;
      const reasons = active ? (state.uplinks[active]?.reasons ?? []) : [];
      const message = `node link ${node}${active ? ` via ${active}` : ''}${reasons.length ? `: ${reasons.join(' ')}` : ''}`;
      const measured = Object.values(state.uplinks).some((u) => u.metrics.lastMs !== null);
      const st = node === 'healthy' ? 'ok' : node === 'degraded' ? 'degraded' : node === 'down' ? 'down' : measured ? 'degraded' : 'starting';
      return { state: st, message, details: details() };
    },
    notReadyReasons(): string[] {
      // The agent is ready even when the link is bad: link readiness is served on /readyz/link.
      return [];
    },
    routes(): HttpRoute[] {
      return linkRoutes({ nowMs: () => ctx.clock.nowMs(), snapshot: () => snapshot, details });
    },
  };
}
