/** Pure: diff of the current Node against desired decorations → minimal patches, honouring ownership. */
import type { KubernetesConfig } from '../config/k8s.ts';
import { isEmptyOwnership, readOwnership, serializeOwnership } from './ownership.ts';
import {
  ANNOTATION_OWNED,
  LABEL_BANDWIDTH,
  LABEL_LINK_STATE,
  LABEL_UPLINK,
  type Desired,
  type NodeCondition,
  type NodeView,
  type Ownership,
  type Plan,
  type Taint,
} from './types.ts';

const sameTaint = (a: { key: string; effect: string }, b: { key: string; effect: string }): boolean => a.key === b.key && a.effect === b.effect;

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Condition write decision: on status/reason change at once; otherwise only when the heartbeat is due. A heartbeat
 * after `nowMs` was written while this clock ran ahead (before NTP stepped it back): it is due at once, else no
 * heartbeat would be written until the clock caught up with it (hours, or days). A transition time after `nowMs` is
 * rewritten as now for the same reason (the transition happened, at the latest, now).
 */
export function planCondition(current: NodeCondition | undefined, want: NodeCondition, heartbeatS: number, nowMs: number): NodeCondition | null {
  const now = iso(nowMs);
  if (!current || current.status !== want.status || current.reason !== want.reason) {
    return { ...want, lastHeartbeatTime: now, lastTransitionTime: now };
  }
  const last = Date.parse(current.lastHeartbeatTime ?? '');
  const due = heartbeatS > 0 && (!Number.isFinite(last) || last > nowMs || nowMs - last >= heartbeatS * 1000);
  if (!due) return null;
  const transition = Date.parse(current.lastTransitionTime ?? '');
  return {
    ...want,
    lastHeartbeatTime: now,
    lastTransitionTime: Number.isFinite(transition) && transition <= nowMs ? (current.lastTransitionTime ?? now) : now,
  };
}

/** Plans the writes from `node` to `desired`. Never removes a label, taint or cordon that ownership does not record. */
export function planNode(node: NodeView, desired: Desired, cfg: Pick<KubernetesConfig, 'conditionHeartbeatSeconds'>, nowMs: number): Plan {
  const owned = readOwnership(node);
  if (desired.hold) return { nodePatch: null, statusPatch: null, owned, changes: [] };
  const next: Ownership = { labels: [], taints: [], cordon: false };
  const changes: string[] = [];
  const labelPatch: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(desired.labels)) {
    if (node.labels[k] !== v) {
      labelPatch[k] = v;
      changes.push(`label ${k}=${v}`);
    }
    next.labels.push(k);
  }
  for (const k of owned.labels) {
    if (k in desired.labels || node.labels[k] === undefined) continue;
    labelPatch[k] = null;
    changes.push(`remove label ${k}`);
  }
  const { taints, taintChanges, ownedTaints } = planTaints(node.taints, owned.taints, desired.taint);
  next.taints = ownedTaints;
  changes.push(...taintChanges);
  let unschedulable: boolean | null | undefined;
  if (desired.cordon) {
    if (!node.unschedulable) {
      unschedulable = true;
      next.cordon = true;
      changes.push('cordon');
    } else next.cordon = owned.cordon; // an admin's cordon stays the admin's
  } else if (owned.cordon && node.unschedulable) {
    unschedulable = null;
    changes.push('uncordon');
  }
  if (desired.yielded?.length) next.yielded = { state: desired.state, items: desired.yielded };
  for (const f of desired.yieldedFresh ?? []) changes.push(`leave ${f} off until the link state changes (removed by someone else)`);
  const annotations: Record<string, string | null> = {};
  const nextText = isEmptyOwnership(next) ? undefined : serializeOwnership(next);
  const curText = node.annotations[ANNOTATION_OWNED];
  if (nextText !== curText) annotations[ANNOTATION_OWNED] = nextText ?? null;
  let nodePatch: Record<string, unknown> | null = null;
  if (changes.length > 0 || Object.keys(annotations).length > 0) {
    const metadata: Record<string, unknown> = { resourceVersion: node.resourceVersion };
    if (Object.keys(labelPatch).length) metadata.labels = labelPatch;
    if (Object.keys(annotations).length) metadata.annotations = annotations;
    const spec: Record<string, unknown> = {};
    if (taintChanges.length) spec.taints = taints.length ? taints : null;
    if (unschedulable !== undefined) spec.unschedulable = unschedulable;
    nodePatch = { metadata, ...(Object.keys(spec).length ? { spec } : {}) };
  }
  let statusPatch: Record<string, unknown> | null = null;
  if (desired.condition) {
    const cur = node.conditions.find((c) => c.type === desired.condition?.type);
    const cond = planCondition(cur, desired.condition, cfg.conditionHeartbeatSeconds, nowMs);
    if (cond) {
      statusPatch = { status: { conditions: [cond] } };
      changes.push(`condition ${cond.type}=${cond.status} (${cond.reason ?? ''})`);
    }
  }
  return { nodePatch, statusPatch, owned: next, changes };
}

/** Taints: add the desired one unless an admin already has that key+effect; remove only owned ones no longer desired. */
function planTaints(
  current: readonly Taint[],
  owned: Ownership['taints'],
  want: Taint | null,
): { taints: Taint[]; taintChanges: string[]; ownedTaints: Ownership['taints'] } {
  let taints = current.map((t) => ({ ...t }));
  const taintChanges: string[] = [];
  const ownedTaints: Ownership['taints'] = [];
  for (const o of owned) {
    if (want && sameTaint(o, want)) continue;
    if (taints.some((t) => sameTaint(t, o))) {
      taints = taints.filter((t) => !sameTaint(t, o));
      taintChanges.push(`remove taint ${o.key}:${o.effect}`);
    }
  }
  if (want) {
    const existing = taints.find((t) => sameTaint(t, want));
    const isOwned = owned.some((o) => sameTaint(o, want));
    if (!existing) {
      taints.push({ key: want.key, ...(want.value !== undefined ? { value: want.value } : {}), effect: want.effect });
      taintChanges.push(`taint ${want.key}=${want.value ?? ''}:${want.effect}`);
      ownedTaints.push({ key: want.key, effect: want.effect });
    } else if (isOwned) {
      ownedTaints.push({ key: want.key, effect: want.effect });
      if (existing.value !== want.value) {
        existing.value = want.value;
        taintChanges.push(`taint ${want.key}=${want.value ?? ''}:${want.effect}`);
      }
    }
    // else: an admin's taint with the same key and effect already does the job; it stays theirs.
  }
  return { taints, taintChanges, ownedTaints };
}

/** Plan that removes every linkward decoration: owned taints and cordon, linkward's labels, the annotation and the condition. */
export function planRelease(node: NodeView, conditionType: string): Plan {
  const owned = readOwnership(node);
  const changes: string[] = [];
  const labels: Record<string, null> = {};
  // Owned labels plus linkward's well-known keys (ownership may be lost); other linkward.io/* keys may be an admin's.
  const ours = new Set([...owned.labels, LABEL_LINK_STATE, LABEL_UPLINK, LABEL_BANDWIDTH]);
  for (const k of Object.keys(node.labels))
    if (ours.has(k)) {
      labels[k] = null;
      changes.push(`remove label ${k}`);
    }
  const { taints, taintChanges } = planTaints(node.taints, owned.taints, null);
  changes.push(...taintChanges);
  const spec: Record<string, unknown> = {};
  if (taintChanges.length) spec.taints = taints.length ? taints : null;
  if (owned.cordon && node.unschedulable) {
    spec.unschedulable = null;
    changes.push('uncordon');
  }
  const metadata: Record<string, unknown> = { resourceVersion: node.resourceVersion };
  if (Object.keys(labels).length) metadata.labels = labels;
  if (node.annotations[ANNOTATION_OWNED] !== undefined) {
    metadata.annotations = { [ANNOTATION_OWNED]: null };
    changes.push('remove ownership annotation');
  }
  const nodePatch = changes.length ? { metadata, ...(Object.keys(spec).length ? { spec } : {}) } : null;
  const hasCond = node.conditions.some((c) => c.type === conditionType);
  if (hasCond) changes.push(`remove condition ${conditionType}`);
  const statusPatch = hasCond ? { status: { conditions: [{ type: conditionType, $patch: 'delete' }] } } : null;
  return { nodePatch, statusPatch, owned: { labels: [], taints: [], cordon: false }, changes };
}
