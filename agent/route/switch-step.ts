/** One decided switch carried out: committed with confirm (or only recorded when routes are not managed), its outcome folded into the policy state. */
import type { RoutePolicyConfig } from '../config/route.ts';
import type { Ipv6Follower } from './follow6.ts';
import type { RouteMetrics } from './metrics.ts';
import { committed, rolledBack, type PolicyState, type SwitchReason } from './policy.ts';
import type { RouteTarget } from './reconcile.ts';
import type { RouteStore } from './store.ts';
import type { SwitchRunner } from './switch-runner.ts';
import type { UseRequests } from './use-requests.ts';

/** A rollback the agent caused by deciding late (it was starved of CPU) says nothing about the uplink: hold it down this briefly only. */
export const LATE_DECISION_HOLD_DOWN_MS = 15_000;

/** What a switch needs from the route component. */
export interface SwitchStepDeps {
  policy: RoutePolicyConfig;
  /** Fewer than two uplinks: the active uplink is bookkeeping only. */
  idle: boolean;
  routesAllowed(): boolean;
  /** Why route switching is refused (k3s not pinned), when it is. */
  refusal(): string | undefined;
  runner: Pick<SwitchRunner, 'commit' | 'afterward'>;
  metrics: RouteMetrics;
  follower: Pick<Ipv6Follower, 'switched'>;
  requests: UseRequests;
  store(): RouteStore | null;
  target(active: string | null, linkUp: Record<string, boolean>): RouteTarget;
  /**
   * The component's policy state, read when the outcome is folded in (an operator's `route use` may change it while a
   * confirm runs), and set before the new active uplink is announced (listeners may read it).
   */
  state(): PolicyState;
  setState(s: PolicyState): void;
  announce(name: string | null): void;
  nowMs(): number;
}

/**
 * Moves traffic from `state.active` to `to` (every family the new uplink has resolved), confirms it or rolls back,
 * sets the resulting policy state and settles `route use` requests. Returns the decision text when the outcome
 * replaces the policy's (refused, rolled back), else null.
 */
export async function switchStep(d: SwitchStepDeps, to: string, reason: SwitchReason, linkUp: Record<string, boolean>): Promise<string | null> {
  const from = d.state().active;
  if (!d.routesAllowed() || d.idle) {
    if (!d.policy.manageRoutes || d.idle) {
      const nowMs = d.nowMs();
      d.metrics.switches.inc({ reason, result: 'applied' });
      d.store()?.record({ atMs: nowMs, from, to, reason, result: 'applied', detail: 'routes not managed' });
      d.setState(committed(d.state(), to, reason, nowMs));
      d.announce(to);
      d.requests.settle(to, 'applied', 'routes not managed: the active uplink was changed, not the kernel routes');
      return null;
    }
    d.requests.settle(to, 'refused', `route switching is refused: ${d.refusal()}`);
    return `would switch ${from} → ${to} (${reason}) but route switching is refused: ${d.refusal()}`;
  }
  const out = await d.runner.commit(to, { ...d.target(to, linkUp), hold6: false }, d.target(from, linkUp), { from, to, reason });
  d.metrics.switches.inc({ reason, result: out.result });
  d.follower.switched(to, out.ok, out.families);
  if (out.result !== 'applied') {
    d.metrics.confirmSeconds.observe(out.confirmMs / 1000);
    d.metrics.armSeconds.observe(out.armMs / 1000);
  }
  let why: string | null = null;
  if (out.ok) {
    d.setState(committed(d.state(), to, reason, d.nowMs()));
    d.announce(to);
    d.requests.settle(to, out.result === 'applied' ? 'applied' : 'confirmed', out.detail);
  } else {
    d.metrics.rollbacks.inc();
    d.metrics.rollbackCauses.inc({ cause: out.cause ?? 'unreachable' });
    // A late decision or a helper that fired first is the agent's slowness, not evidence against the uplink.
    const agentSlow = out.cause === 'late' || out.cause === 'helper-fired';
    const holdDown = agentSlow ? Math.min(d.policy.holdDown, LATE_DECISION_HOLD_DOWN_MS) : d.policy.holdDown;
    d.setState(rolledBack(d.state(), from, to, { holdDown }, d.nowMs()));
    why = `switch to ${to} rolled back: ${out.detail}; ${to} held down for ${holdDown / 1000}s`;
    d.requests.settle(to, 'rolled-back', `${out.detail}; ${to} held down for ${holdDown / 1000}s`, out.cause);
  }
  // In the background, one at a time, after the outcome is announced.
  d.runner.afterward(out.flushConntrack);
  return why;
}
