/** The route component's start before its first evaluation: what state.db kept, k3s pinning, the defaults to restore, the revert helper, a switch the agent died in, the status quo. */
import type { Logger } from '../base/log.ts';
import type { RoutePolicyConfig } from '../config/route.ts';
import type { UplinkConfig } from '../config/uplinks.ts';
import type { RouteActuator } from './actuator.ts';
import { RouteErrorCode } from './errors.ts';
import type { Ipv6Follower } from './follow6.ts';
import { k3sPinning, type K3sFacts, type K3sPinning } from './k3s.ts';
import type { KernelSync } from './kernel-sync.ts';
import type { RouteMetrics } from './metrics.ts';
import { currentActive, resolveUplinks, type PlanOptions } from './plan.ts';
import { rolledBack, type PolicyState } from './policy.ts';
import { restoredPolicy } from './policy-restore.ts';
import type { RouteTarget } from './reconcile.ts';
import { captureOriginalDefaults } from './restore.ts';
import type { RouteStore } from './store.ts';
import type { SwitchRunner } from './switch-runner.ts';

/** What the start needs from the route component. */
export interface StartupDeps {
  policy: RoutePolicyConfig;
  /** Fewer than two uplinks: the active uplink is bookkeeping only. */
  idle: boolean;
  uplinks: readonly UplinkConfig[];
  configured: readonly UplinkConfig[];
  opts: PlanOptions;
  actuator: RouteActuator;
  log: Logger;
  metrics: RouteMetrics;
  kernel: Pick<KernelSync, 'downByUs'>;
  follower: Pick<Ipv6Follower, 'restore' | 'recovered' | 'start'>;
  runner: Pick<SwitchRunner, 'startHelper' | 'recover'>;
  k3sFacts: () => K3sFacts;
  /** Set before routesAllowed() is asked: it depends on the pinning. */
  setPinning(p: K3sPinning): void;
  routesAllowed(): boolean;
  target(active: string | null): RouteTarget;
  state(): PolicyState;
  setState(s: PolicyState): void;
  setWhy(why: string): void;
  announce(name: string | null): void;
  nowMs(): number;
}

/** Everything start() does before evaluations begin; `store` is state.db's, already set on the component. */
export async function startRoute(d: StartupDeps, store: RouteStore): Promise<void> {
  const { policy, actuator, log, follower, runner } = d;
  d.kernel.downByUs = store.loadDownByUs();
  follower.restore(store.loadIpv6Holds(), d.nowMs());
  const pinning = k3sPinning(d.k3sFacts());
  d.setPinning(pinning);
  if (!d.idle && policy.manageRoutes && !d.routesAllowed())
    log.warn({ code: RouteErrorCode.K3S_UNPINNED, k3s: pinning }, `route switching refused: ${pinning.message}`);
  d.setState(restoredPolicy(store.loadPolicy(), d.nowMs(), policy.holdDown));
  if (d.idle) {
    d.setState({ ...d.state(), active: d.uplinks[0]!.name });
    d.setWhy('fewer than 2 uplinks configured: failover idle');
    d.announce(d.state().active);
    return;
  }
  // Before any change: the default routes to restore on stop (restore.ts).
  if (d.routesAllowed()) await captureOriginalDefaults(actuator, store, d.opts, log);
  if (d.routesAllowed() && !policy.dryRun) await runner.startHelper();
  if (d.routesAllowed()) {
    // back to the state before the switch with IPv6 held (whether it was is not stored): the safe side; start()
    // below then takes the uplink that carries the host's IPv6 default as the status quo
    const recovered = await runner.recover((p) => ({ ...d.target(p.from), hold6: true }));
    if (recovered?.reason === 'ipv6') follower.recovered(recovered.to, d.nowMs());
    else if (recovered) d.setState(rolledBack(d.state(), recovered.from, recovered.to, policy, d.nowMs()));
    if (recovered) d.metrics.rollbacks.inc();
  }
  if (d.state().active === null) {
    const kernel = await actuator.read().catch(() => null);
    if (kernel) d.setState({ ...d.state(), active: currentActive(resolveUplinks(d.configured, kernel, d.opts).uplinks, kernel) });
  }
  if (d.state().active !== null) d.announce(d.state().active);
  if (d.routesAllowed()) follower.start(await actuator.read().catch(() => null));
}
