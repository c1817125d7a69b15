/** The route component's details: what `linkward route`, `/v1/status` and the status page show of failover. */
import type { RoutePolicyConfig } from '../config/route.ts';
import type { UplinkConfig } from '../config/uplinks.ts';
import type { LinkSnapshot } from '../core/types.ts';
import type { ConntrackFlusher } from './conntrack.ts';
import type { Ipv6Follower } from './follow6.ts';
import type { K3sPinning } from './k3s.ts';
import type { KernelSync } from './kernel-sync.ts';
import { SWITCH_WINDOW_MS } from './candidates.ts';
import type { PolicyState } from './policy.ts';
import type { RouteStore } from './store.ts';
import type { SwitchRunner } from './switch-runner.ts';
import type { UseRequests } from './use-requests.ts';

/** Switches shown in the details' history. */
const HISTORY_SHOWN = 10;

/** What the details are read from, at one instant. */
export interface RouteDetailsInput {
  policy: RoutePolicyConfig;
  state: PolicyState;
  routesManaged: boolean;
  pinning: K3sPinning | null;
  lastDecision: string;
  kernel: KernelSync;
  conntrack: ConntrackFlusher | null;
  follower: Ipv6Follower;
  uplinks: readonly UplinkConfig[];
  link: LinkSnapshot | null;
  store: RouteStore | null;
  requests: UseRequests;
  runner: SwitchRunner;
  nowMs: number;
}

/** The details object (JSON-ready). */
export function routeDetails(d: RouteDetailsInput): Record<string, unknown> {
  const { policy, state, kernel } = d;
  return {
    mode: policy.mode,
    active: state.active,
    override: state.override,
    routesManaged: d.routesManaged,
    dryRun: policy.dryRun,
    k3s: d.pinning,
    lastDecision: d.lastDecision,
    problems: kernel.problems,
    lastError: kernel.lastError,
    managed: kernel.managed,
    downByUs: kernel.downByUs,
    conntrack: d.conntrack?.status() ?? {
      enabled: false,
      reason: policy.flushConntrack ? 'no conntrack runner (kernel adapter injected)' : 'uplinks.policy.flushConntrack is false',
    },
    holdDownUntil: state.holdDownUntil,
    ipv6: d.follower.details(d.nowMs),
    switchesLastHour: state.switchLog.filter((t) => d.nowMs - t < SWITCH_WINDOW_MS).length,
    uplinks: d.uplinks.map((u) => ({
      name: u.name,
      priority: u.priority,
      interface: u.interface ?? null,
      health: d.link?.uplinks[u.name]?.health ?? 'unknown',
    })),
    history: d.store?.history(HISTORY_SHOWN) ?? [],
    requests: d.requests.list(),
    revertHelper: d.runner.details(),
    timing: { confirmTimeoutMs: policy.confirmTimeout, revertGraceMs: policy.revertGrace },
  };
}
