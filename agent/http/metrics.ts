/** The Prometheus registry: process metrics, linkward_build_info and the daemon's own gauges. */
import { Counter, Gauge, Registry } from 'prom-client';
import { registerProcessMetrics } from './process-metrics.ts';
import type { LoopDelayMonitor } from './loop-delay.ts';
import { VERSION } from '../base/version.ts';

/** Creates the registry every component registers on. */
export function createMetricsRegistry(nodeName: string, loop: LoopDelayMonitor): Registry {
  const registry = new Registry();
  registerProcessMetrics(registry, loop);
  const info = new Gauge({
    name: 'linkward_build_info',
    help: 'Build information of the running linkward agent; the value is always 1.',
    labelNames: ['version', 'node_version', 'node'] as const,
    registers: [registry],
  });
  info.set({ version: VERSION, node_version: process.versions.node, node: nodeName }, 1);
  return registry;
}

/** Gauges about the daemon itself (component states, readiness). */
export function registerDaemonMetrics(
  registry: Registry,
  stateDbQuarantined: boolean,
  read: () => { ready: boolean; components: Record<string, string> },
): void {
  new Counter({
    name: 'linkward_state_db_quarantined_total',
    help: 'Times a corrupt state.db was moved aside and replaced at start (by this process: 0 or 1).',
    registers: [registry],
  }).inc(stateDbQuarantined ? 1 : 0);
  new Gauge({
    name: 'linkward_ready',
    help: '1 when the agent is ready (/readyz answers 200), else 0.',
    registers: [registry],
    collect() {
      this.set(read().ready ? 1 : 0);
    },
  });
  const states = ['starting', 'ok', 'degraded', 'down', 'disabled', 'error'] as const;
  new Gauge({
    name: 'linkward_component_state',
    help: 'State of each daemon component: 1 for the current state, 0 for the others.',
    labelNames: ['component', 'state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [component, state] of Object.entries(read().components)) {
        for (const s of states) this.set({ component, state: s }, s === state ? 1 : 0);
      }
    },
  });
}
