/** Helpers for k8s unit tests: snapshots, node views, config with defaults. */
import { KubernetesConfigSchema, type KubernetesConfig } from '../../../agent/config/k8s.ts';
import type { LinkHealth, LinkSnapshot } from '../../../agent/core/types.ts';
import type { NodeView } from '../../../agent/k8s/types.ts';

export const T0 = 1_700_000_000_000;

export function cfg(over: Record<string, unknown> = {}): KubernetesConfig {
  return KubernetesConfigSchema.parse(over);
}

export function snap(node: LinkHealth, downloadMbps = 42, reasons: string[] = []): LinkSnapshot {
  return {
    atMs: T0,
    node,
    active: 'wan0',
    uplinks: {
      wan0: {
        name: 'wan0',
        health: node,
        sinceMs: T0,
        reasons,
        latest: { atMs: T0, downloadMbps, uploadMbps: 9.5, rttP95Ms: 412, lossPercent: 4, jitterMs: 12 },
      },
    },
  };
}

export function nodeView(over: Partial<NodeView> = {}): NodeView {
  return { name: 'n1', resourceVersion: '10', labels: {}, annotations: {}, taints: [], unschedulable: false, conditions: [], ...over };
}

/** Applies a plan's merge patch to a NodeView the way the API server would (for multi-step pure tests). */
export function applyPlan(n: NodeView, p: { nodePatch: Record<string, unknown> | null; statusPatch: Record<string, unknown> | null }): NodeView {
  const out: NodeView = structuredClone(n);
  const md = (p.nodePatch?.metadata ?? {}) as { labels?: Record<string, string | null>; annotations?: Record<string, string | null> };
  for (const [k, v] of Object.entries(md.labels ?? {}))
    if (v === null) delete out.labels[k];
    else out.labels[k] = v;
  for (const [k, v] of Object.entries(md.annotations ?? {}))
    if (v === null) delete out.annotations[k];
    else out.annotations[k] = v;
  const spec = (p.nodePatch?.spec ?? {}) as { taints?: NodeView['taints'] | null; unschedulable?: boolean | null };
  if ('taints' in spec) out.taints = spec.taints ?? [];
  if ('unschedulable' in spec) out.unschedulable = spec.unschedulable === true;
  const conds = ((p.statusPatch?.status ?? {}) as { conditions?: NodeView['conditions'] }).conditions ?? [];
  for (const c of conds) {
    out.conditions = out.conditions.filter((x) => x.type !== c.type);
    if (!(c as { $patch?: string }).$patch) out.conditions.push(c);
  }
  out.resourceVersion = String(Number(out.resourceVersion) + 1);
  return out;
}
