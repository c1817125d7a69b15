/** Prometheus metrics of the link-state machine: state gauges (0/1), transition counters, damping penalty. */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { LinkHealth } from '../core/types.ts';
import type { LinkState, Transition } from '../core/link-state.ts';
import { decayedPenalty } from '../core/damping.ts';
import type { LinkHealthConfig } from '../config/link.ts';

const STATES: readonly LinkHealth[] = ['unknown', 'healthy', 'degraded', 'down'];

export interface LinkMetrics {
  /** Counts transitions (uplink and node). */
  count(transitions: readonly Transition[]): void;
}

/** Registers the link metrics on `registry`; gauges read the current state at scrape time. */
export function registerLinkMetrics(registry: Registry, read: () => { state: LinkState; nowMs: number; policy: LinkHealthConfig }): LinkMetrics {
  new Gauge({
    name: 'linkward_link_state',
    help: 'Health of each uplink: 1 for the current state, 0 for the others.',
    labelNames: ['uplink', 'state'] as const,
    registers: [registry],
    collect(): void {
      this.reset();
      for (const u of Object.values(read().state.uplinks)) for (const s of STATES) this.set({ uplink: u.name, state: s }, u.health === s ? 1 : 0);
    },
  });
  new Gauge({
    name: 'linkward_link_node_state',
    help: 'Health of the node (follows the active uplink): 1 for the current state, 0 for the others.',
    labelNames: ['state'] as const,
    registers: [registry],
    collect(): void {
      const node = read().state.node;
      for (const s of STATES) this.set({ state: s }, node === s ? 1 : 0);
    },
  });
  new Gauge({
    name: 'linkward_link_damping_penalty',
    help: 'Current flap-damping penalty of each uplink (suppressed above probes.health.damping.suppressAbove).',
    labelNames: ['uplink'] as const,
    registers: [registry],
    collect(): void {
      this.reset();
      const { state, nowMs, policy } = read();
      for (const u of Object.values(state.uplinks)) this.set({ uplink: u.name }, Math.round(decayedPenalty(u.damping, nowMs, policy.damping)));
    },
  });
  new Gauge({
    name: 'linkward_link_suppressed',
    help: '1 while flap damping holds the uplink in its worse state.',
    labelNames: ['uplink'] as const,
    registers: [registry],
    collect(): void {
      this.reset();
      for (const u of Object.values(read().state.uplinks)) this.set({ uplink: u.name }, u.damping.suppressed ? 1 : 0);
    },
  });
  const uplinkTransitions = new Counter({
    name: 'linkward_link_transitions_total',
    help: 'Health transitions of each uplink, by previous and target state (from="unknown" is a first verdict, not a worsening).',
    labelNames: ['uplink', 'from', 'to'] as const,
    registers: [registry],
  });
  const nodeTransitions = new Counter({
    name: 'linkward_link_node_transitions_total',
    help: 'Health transitions of the node, by previous and target state.',
    labelNames: ['from', 'to'] as const,
    registers: [registry],
  });
  return {
    count(transitions): void {
      for (const t of transitions) {
        if (t.uplink === null) nodeTransitions.inc({ from: t.from, to: t.to });
        else uplinkTransitions.inc({ uplink: t.uplink, from: t.from, to: t.to });
      }
    },
  };
}
