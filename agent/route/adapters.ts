/** The route feature's real adapters (kernel via `ip`, conntrack, TCP confirm, k3s facts): built only by the composition root. */
import { existsSync } from 'node:fs';
import type { AgentContext } from '../runtime/component.ts';
import { systemRunner } from '../base/exec.ts';
import { createIpActuator } from './actuator.ts';
import { tcpConnector } from './confirm.ts';
import type { RouteDeps } from './component.ts';
import { readK3sFacts } from './k3s.ts';
import { familiesFor } from './plan.ts';

/** Where systemd keeps its runtime state: present exactly when systemd is PID 1 (sd_booted(3)). */
const SYSTEMD_RUNTIME_DIR = '/run/systemd/system';

/** The adapters that touch this host: the daemon's and the namespace lab's (`ipPath`: another `ip` binary), never a unit test's. */
export function realRouteDeps(ctx: AgentContext, ipPath = 'ip'): RouteDeps {
  const log = ctx.log.child({ component: 'route' });
  const policy = ctx.config.failover;
  return {
    actuator: createIpActuator({ log, dryRun: policy.dryRun, families: familiesFor([...ctx.config.uplinks]), registry: ctx.metrics, ipPath }),
    k3sFacts: readK3sFacts,
    connector: tcpConnector,
    systemdRunning: existsSync(SYSTEMD_RUNTIME_DIR),
    ipPath,
    conntrackRunner: systemRunner,
    conntrackPath: 'conntrack',
  };
}
