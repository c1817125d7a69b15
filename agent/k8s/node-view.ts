/** GET /v1/node and the component status: desired (from the latest snapshot) vs actual, API reachability, fleet, drain, watch. */
import type { ComponentStatus } from '../runtime/component.ts';
import type { LinkSnapshot } from '../core/types.ts';
import type { ApiGate } from './api-gate.ts';
import type { KubernetesConfig } from '../config/k8s.ts';
import type { DrainStatus } from './drain-episode.ts';
import type { NodeWatcher } from './node-watch.ts';
import { planNode } from './plan.ts';
import type { ReconcileResult } from './reconciler.ts';
import { summarizeDesired, summarizeNode } from './summary.ts';
import type { Desired, NodeView } from './types.ts';

export interface NodeViewInput {
  nodeName: string;
  cfg: KubernetesConfig;
  nowMs: number;
  source: string | null;
  state: ComponentStatus['state'];
  message: string;
  /** Paused by `linkward node release` (until resume). */
  released: boolean;
  last: ReconcileResult | null;
  snapshot: LinkSnapshot | null;
  /** Desired decorations for a snapshot and a Node now (pure; the component's own rule incl. fleet grant). */
  desiredFor: (s: LinkSnapshot | null, node: NodeView) => Desired;
  lastSuccessMs: number | null;
  lastError: { code: string; message: string; atMs: number } | null;
  gate: ApiGate | null;
  fleetHeld: boolean;
  drain: DrainStatus | null;
  eventsPending: number;
  watcher: NodeWatcher | null;
}

/** API reachability for status: answered or not, when it last answered, and when the next request may go out. */
export function apiStatus(gate: ApiGate | null): Record<string, unknown> | null {
  if (!gate) return null;
  const r = gate.reachability;
  const wait = gate.waitMs();
  return { reachable: r.up, lastSuccessMs: r.lastSuccessMs, lastFailureMs: r.lastFailureMs, failures: r.failures, ...(wait > 0 ? { backingOffMs: wait } : {}) };
}

/** The view; no API call. Desired comes from the latest link snapshot, so during an outage it shows what will be applied. */
export function nodeView(i: NodeViewInput): Record<string, unknown> {
  const { last, cfg } = i;
  const desired = last ? i.desiredFor(i.snapshot, last.node) : null;
  const pending = last && desired ? planNode(last.node, desired, cfg, i.nowMs).changes : [];
  return {
    node: i.nodeName,
    enabled: cfg.enabled,
    source: i.source,
    state: i.state,
    message: i.message,
    dryRun: cfg.dryRun,
    paused: i.released,
    adminPause: desired?.paused ?? null,
    yielded: desired?.yielded ?? [],
    desired: desired ? summarizeDesired(desired) : null,
    desiredAtMs: desired ? (i.snapshot?.atMs ?? null) : null,
    actual: last ? summarizeNode(last.node, cfg.conditionType) : null,
    pending,
    lastSuccessMs: i.lastSuccessMs,
    lastError: i.lastError,
    api: apiStatus(i.gate),
    fleet: { enabled: cfg.fleet.enabled, held: i.fleetHeld, ...(last?.fleetReason ? { reason: last.fleetReason } : {}) },
    drain: i.drain,
    eventsPending: i.eventsPending,
    watch: i.watcher ? { ...i.watcher.stats } : null,
  };
}
