/** One reconcile pass: read the kernel (unknown → no change at all), resolve uplinks, compute the desired state for an active uplink, apply the diff. */
import type { UplinkConfig } from '../config/uplinks.ts';
import { unknownError, type ApplyResult, type RouteActuator } from './actuator.ts';
import type { KernelState } from './ip-state.ts';
import { planCommands, resolveUplinks, type DesiredRoutes, type IpArgv, type PlanOptions, type ResolvedUplink } from './plan.ts';

export interface RouteTarget {
  uplinks: readonly UplinkConfig[];
  /** Uplink that should carry the main default route (null: leave main alone). */
  active: string | null;
  /** Desired admin state of idle-down uplinks, by uplink name. */
  linkUp: Record<string, boolean>;
  opts: PlanOptions;
  /** Interfaces linkward itself took down earlier; brought back up once no idle-down uplink wants them down. */
  downByUs?: readonly string[];
  /**
   * The active uplink's IPv6 side has not been confirmed through it (it resolved only after the switch): its IPv6 main
   * default is left out, as for an uplink without IPv6, until a confirmed follow-up moves it (component follow6).
   */
  hold6?: boolean;
}

export interface ReconcileResult {
  kernel: KernelState;
  resolved: ResolvedUplink[];
  problems: string[];
  cmds: IpArgv[];
  result: ApplyResult;
}

/** The uplink as the main default sees it when its IPv6 side is held back. */
function withoutV6(u: ResolvedUplink): ResolvedUplink {
  const { v6: _held, ...rest } = u;
  return rest;
}

/** Desired routes for a target against the current kernel (pure). */
export function desiredRoutes(target: RouteTarget, kernel: KernelState): { desired: DesiredRoutes; resolved: ResolvedUplink[]; problems: string[] } {
  const { uplinks: resolved, problems, unresolved } = resolveUplinks(target.uplinks, kernel, target.opts);
  const links: Record<string, boolean> = {};
  for (const dev of target.downByUs ?? []) links[dev] = true;
  for (const u of target.uplinks) {
    if (!u.idleDown || !u.interface) continue;
    links[u.interface] = u.name === target.active || (target.linkUp[u.name] ?? false);
  }
  const isUp = (u: ResolvedUplink): boolean => links[u.dev] ?? kernel.links.find((l) => l.name === u.dev)?.up ?? false;
  const activeU = resolved.find((u) => u.name === target.active) ?? null;
  if (target.active !== null && !activeU) problems.push(`active uplink ${target.active} cannot be routed; main default route left as is`);
  const main = activeU && target.hold6 ? withoutV6(activeU) : activeU;
  return { desired: { active: main, tables: resolved.filter(isUp), links, keep: unresolved }, resolved, problems };
}

/**
 * Reads, plans and applies; never throws for individual `ip` failures (they are in `result.errors`). An unknown read
 * (failed, timed out, empty, garbage, partial) changes nothing and throws LW_ROUTE_STATE_UNKNOWN: callers keep their
 * desired state and retry (the component's apply gate retries while `lastError` is set, every TROUBLE_RETRY_MS or re-apply interval; a switch rolls back).
 */
export async function reconcile(act: RouteActuator, target: RouteTarget): Promise<ReconcileResult> {
  const read = await act.readState();
  if (!read.known) throw unknownError(read);
  const kernel = read.state;
  const { desired, resolved, problems } = desiredRoutes(target, kernel);
  const cmds = planCommands(desired, kernel, target.opts);
  const result = cmds.length > 0 ? await act.apply(cmds) : { applied: [], done: [], errors: [] };
  return { kernel, resolved, problems, cmds, result };
}
