/** What the route component shows at one instant: its status (disabled while idle, degraded while refused or in trouble) and its details (details.ts). */
import type { RoutePolicyConfig } from '../config/route.ts';
import type { UplinkConfig } from '../config/uplinks.ts';
import type { LinkSnapshot } from '../core/types.ts';
import type { ComponentStatus } from '../runtime/component.ts';
import type { ConntrackFlusher } from './conntrack.ts';
import { routeDetails } from './details.ts';
import type { Ipv6Follower } from './follow6.ts';
import type { K3sPinning } from './k3s.ts';
import type { KernelSync } from './kernel-sync.ts';
import type { PolicyState } from './policy.ts';
import type { RouteStore } from './store.ts';
import type { SwitchRunner } from './switch-runner.ts';
import type { UseRequests } from './use-requests.ts';

/** What the status and details are read from. */
export interface StatusDeps {
  policy: RoutePolicyConfig;
  /** Fewer than two uplinks: the active uplink is bookkeeping only. */
  idle: boolean;
  configured: readonly UplinkConfig[];
  uplinks: readonly UplinkConfig[];
  kernel: KernelSync;
  conntrack: ConntrackFlusher | null;
  follower: Ipv6Follower;
  requests: UseRequests;
  runner: SwitchRunner;
  routesAllowed(): boolean;
  pinning(): K3sPinning | null;
  state(): PolicyState;
  /** The last decision's text. */
  why(): string;
  store(): RouteStore | null;
  latestLink(): LinkSnapshot | null;
  nowMs(): number;
}

/** The component's status; `details` is the component's own details(). */
export function routeStatus(d: StatusDeps, details: () => Record<string, unknown>): ComponentStatus {
  const { kernel } = d;
  if (d.idle) return { state: 'disabled', message: `failover idle: ${d.configured.length} uplink(s) configured, need 2`, details: details() };
  const refused = !d.routesAllowed() && d.policy.manageRoutes;
  const bad = refused || kernel.problems.length > 0 || kernel.lastError !== null;
  const message = refused
    ? `route switching refused: ${d.pinning()?.message}`
    : (kernel.lastError ?? kernel.problems[0] ?? `active uplink ${d.state().active ?? 'none'}: ${d.why()}`);
  return { state: bad ? 'degraded' : 'ok', message, details: details() };
}

/** The component's details, as they are now. */
export function currentDetails(d: StatusDeps): Record<string, unknown> {
  return routeDetails({
    policy: d.policy,
    state: d.state(),
    routesManaged: d.routesAllowed(),
    pinning: d.pinning(),
    lastDecision: d.why(),
    kernel: d.kernel,
    conntrack: d.conntrack,
    follower: d.follower,
    uplinks: d.uplinks,
    link: d.latestLink(),
    store: d.store(),
    requests: d.requests,
    runner: d.runner,
    nowMs: d.nowMs(),
  });
}
