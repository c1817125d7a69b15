/** The agent config the edge-site lab writes into its folder: what an operator of this site would write, with the lab's fast timings. */
import { GW_ADDR, PROBE_IP, PROBE_PORT, VM_IP, VM_PORT, type Gw } from './site-lab-net.ts';

/** Inside lws-edge only, so a fixed port never collides with anything on the host. */
export const AGENT_PORT = 9780;
export const NODE_NAME = 'lws-edge';
/** Sinks the workload posts to: both end in VictoriaMetrics' influx endpoint; only `site-high` may use the metered backup. */
export const SINK_HIGH = 'site-high';
export const SINK_BULK = 'site-bulk';
/** Probe byte budget per uplink and day: generous, the lab runs a speed test every few seconds for minutes. */
const LAB_BUDGET_BYTES = 5_000_000_000;
/** Flush pace: a small fraction of the measured upload so that the backlog's pacing is long enough to be measured (default 0.5). */
export const PACE_FRACTION = 0.1;
/** Scheduled speed tests every 10 s (node-cron seconds field), no spread: the throttled rate is seen within one period. */
const THROUGHPUT_CRON = '*/10 * * * * *';

export interface SiteConfigOpts {
  token: string;
  stateDir: string;
  kubeconfig: string;
}

/** One uplink of the site; gw2 is the metered cellular backup. */
function uplink(g: Gw): Record<string, unknown> {
  const a = GW_ADDR[g];
  return {
    name: g,
    interface: a.edgeIf,
    gateway: a.gwIp,
    sourceAddress: a.edgeIp,
    priority: a.n * 10,
    metered: g === 'gw2',
    budgetBytesPerDay: LAB_BUDGET_BYTES,
  };
}

export function siteAgentConfig(o: SiteConfigOpts): Record<string, unknown> {
  // compression none: the flush's bytes on the wire are the backlog's own, so its pacing can be measured at the gateway.
  const sink = (name: string, priority: 'high' | 'normal'): Record<string, unknown> => ({
    name,
    url: `http://${VM_IP}:${VM_PORT}/write`,
    protocol: 'influx-line',
    priority,
    compression: 'none',
  });
  return {
    node: { name: NODE_NAME },
    server: { listen: `127.0.0.1:${AGENT_PORT}`, token: o.token },
    state: { dir: o.stateDir },
    log: { level: 'info', format: 'json' },
    probes: {
      targets: [`linkward://${PROBE_IP}:${PROBE_PORT}`],
      token: o.token,
      // Fast light probes (the trust lab's fast profile): a round every 0.5 s, 2 s to enter a worse state, 5 s to leave it.
      intervalMs: 500,
      maxIntervalMs: 500,
      timeoutMs: 500,
      throughput: { url: `http://${PROBE_IP}:${PROBE_PORT}/`, cron: THROUGHPUT_CRON, spreadMs: 0, recheckMinGapMs: 10_000 },
      health: { dwell: { enterS: 2, exitS: 5 } },
    },
    uplinks: {
      // Fast failover timings; the switch cap stays high so a false switch is counted, not hidden by maxSwitchesPerHour.
      policy: {
        candidateSamples: 2,
        failbackHold: 8000,
        degradedSwitchAfter: 4000,
        minSwitchInterval: 1000,
        confirmTimeout: 3000,
        holdDown: 10_000,
        maxSwitchesPerHour: 1000,
        reapplyInterval: 5000,
      },
      list: [uplink('gw1'), uplink('gw2')],
    },
    kubernetes: {
      kubeconfig: o.kubeconfig,
      requestTimeoutMs: 2000,
      maxBackoffMs: 4000,
      resyncSeconds: 10,
      // Cordon when down (the "cordon if configured"); the fleet cap (one node here) allows it.
      tiers: { down: { taint: 'NoSchedule', cordon: true } },
    },
    buffer: {
      flush: { paceFraction: PACE_FRACTION, canaryIntervalMs: 5000, pollMs: 200 },
      retry: { baseMs: 200, capMs: 2000 },
    },
    sinks: [sink(SINK_HIGH, 'high'), sink(SINK_BULK, 'normal')],
  };
}
