/** What the route component reads of the config: the policy's settings, the uplinks as configured and as the policy sees them, the plan options. */
import type { AgentConfig } from '../config/schema.ts';
import { effectiveUplinks, type UplinkConfig } from '../config/uplinks.ts';
import type { PlanOptions } from './plan.ts';
import type { PolicyConfig, PolicyUplink } from './policy.ts';

export interface RouteSettings {
  policyCfg: PolicyConfig;
  configured: UplinkConfig[];
  uplinks: UplinkConfig[];
  /** Fewer than two uplinks configured: failover idle. */
  idle: boolean;
  puplinks: PolicyUplink[];
  opts: PlanOptions;
}

export function routeSettings(config: AgentConfig): RouteSettings {
  const policy = config.failover;
  // The link-state thresholds (probes.health once mounted), so the policy can tell loss blips from lasting degradation.
  // The probe timeout, so a forced move waits for a candidate that answered after the active uplink's failure began.
  const policyCfg = { ...policy, health: config.probes.health, probeTimeoutMs: config.probes.timeoutMs };
  const configured: UplinkConfig[] = [...config.uplinks];
  const uplinks = effectiveUplinks(configured);
  const idle = configured.length < 2;
  const puplinks: PolicyUplink[] = uplinks.map((u) => ({ name: u.name, priority: u.priority, idleDown: u.idleDown, warmupMs: u.warmup }));
  const opts: PlanOptions = {
    perUplinkTables: policy.perUplinkTables,
    tableBase: policy.tableBase,
    routeProto: policy.routeProto,
    mainMetric: policy.mainMetric,
  };
  return { policyCfg, configured, uplinks, idle, puplinks, opts };
}
