/** JSON-safe summaries of the Node and desired decorations for status, GET /v1/node and `linkward node show`. */
import { readOwnership } from './ownership.ts';
import { LW_PREFIX, TAINT_KEY, type Desired, type NodeView, type Ownership, type Taint } from './types.ts';

export interface DecorationSummary {
  labels: Record<string, string>;
  taints: Taint[];
  cordoned: boolean;
  condition: { status: string; reason?: string; message?: string } | null;
}

export interface ActualSummary extends DecorationSummary {
  owned: Ownership;
  resourceVersion: string;
}

/** What linkward-relevant state the Node carries now. */
export function summarizeNode(n: NodeView, conditionType: string): ActualSummary {
  const c = n.conditions.find((x) => x.type === conditionType);
  return {
    labels: Object.fromEntries(Object.entries(n.labels).filter(([k]) => k.startsWith(LW_PREFIX))),
    taints: n.taints.filter((t) => t.key === TAINT_KEY || t.key.startsWith(LW_PREFIX)),
    cordoned: n.unschedulable,
    condition: c ? { status: c.status, ...(c.reason ? { reason: c.reason } : {}), ...(c.message ? { message: c.message } : {}) } : null,
    owned: readOwnership(n),
    resourceVersion: n.resourceVersion,
  };
}

/** What linkward wants (hold = leave scheduling decorations as they are). */
export function summarizeDesired(d: Desired): DecorationSummary & { state: string; hold: boolean; drain: boolean; capped: string[]; notes?: string[] } {
  return {
    state: d.state,
    hold: d.hold,
    labels: d.labels,
    taints: d.taint ? [d.taint] : [],
    cordoned: d.cordon,
    drain: d.drain,
    capped: d.capped,
    ...(d.notes?.length ? { notes: d.notes } : {}),
    condition: d.condition
      ? {
          status: d.condition.status,
          ...(d.condition.reason ? { reason: d.condition.reason } : {}),
          ...(d.condition.message ? { message: d.condition.message } : {}),
        }
      : null,
  };
}
