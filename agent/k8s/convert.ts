/** Converts Kubernetes API objects (client-node models or plain JSON) to the package's views. */
import type * as K8s from '@kubernetes/client-node';
import type { EventInput, LeaseView, PodView } from './api.ts';
import type { NodeCondition, NodeView, Taint } from './types.ts';

function iso(v: unknown): string | undefined {
  if (v instanceof Date) return v.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return typeof v === 'string' ? v : undefined;
}

/** V1Node → NodeView (dates back to RFC 3339 strings). */
export function toNodeView(n: K8s.V1Node): NodeView {
  const md = n.metadata ?? {};
  return {
    name: md.name ?? '',
    ...(md.uid ? { uid: md.uid } : {}),
    resourceVersion: md.resourceVersion ?? '',
    labels: { ...(md.labels ?? {}) },
    annotations: { ...(md.annotations ?? {}) },
    taints: (n.spec?.taints ?? []).map((t) => {
      const ta = iso(t.timeAdded);
      return { key: t.key, ...(t.value !== undefined ? { value: t.value } : {}), effect: t.effect as Taint['effect'], ...(ta ? { timeAdded: ta } : {}) };
    }),
    unschedulable: n.spec?.unschedulable === true,
    conditions: (n.status?.conditions ?? []).map((c) => {
      const out: NodeCondition = { type: c.type, status: c.status as NodeCondition['status'] };
      if (c.reason !== undefined) out.reason = c.reason;
      if (c.message !== undefined) out.message = c.message;
      const hb = iso(c.lastHeartbeatTime);
      const tr = iso(c.lastTransitionTime);
      if (hb) out.lastHeartbeatTime = hb;
      if (tr) out.lastTransitionTime = tr;
      return out;
    }),
  };
}

export function toLease(l: K8s.V1Lease): LeaseView {
  return {
    name: l.metadata?.name ?? '',
    namespace: l.metadata?.namespace ?? '',
    resourceVersion: l.metadata?.resourceVersion ?? '',
    annotations: { ...(l.metadata?.annotations ?? {}) },
    ...(l.spec?.holderIdentity ? { holderIdentity: l.spec.holderIdentity } : {}),
    ...(l.spec?.leaseDurationSeconds !== undefined ? { leaseDurationSeconds: l.spec.leaseDurationSeconds } : {}),
  };
}

export function toPod(p: K8s.V1Pod): PodView {
  return {
    namespace: p.metadata?.namespace ?? '',
    name: p.metadata?.name ?? '',
    ...(p.metadata?.uid ? { uid: p.metadata.uid } : {}),
    // Only `controller: true` makes a pod managed, as in kubectl's drain filters (an owner without the flag is not a controller).
    ownerKinds: (p.metadata?.ownerReferences ?? []).filter((o) => o.controller === true).map((o) => o.kind),
    mirror: p.metadata?.annotations?.['kubernetes.io/config.mirror'] !== undefined,
    ...(p.status?.phase ? { phase: p.status.phase } : {}),
    // Presence is what counts, as in kubectl (`volume.EmptyDir != nil`): `emptyDir: {}` is an emptyDir.
    emptyDirVolumes: (p.spec?.volumes ?? []).filter((v) => v.emptyDir !== undefined && v.emptyDir !== null).map((v) => v.name),
  };
}

/** An Event name, as client-go makes them: `<node>.<time in hex>`, then `suffix` (default: random hex). */
export function eventName(node: string, nowMs: number, suffix = Math.floor(Math.random() * 0xfff).toString(16)): string {
  return `${node}.${nowMs.toString(16)}${suffix}`;
}

/** The core/v1 Event recorded for one transition; both API clients send this object (`at`: Date or RFC 3339). */
export function eventBody<T>(ev: EventInput, at: T) {
  return {
    metadata: { name: ev.name ?? eventName(ev.node.name, ev.nowMs), namespace: ev.namespace },
    involvedObject: { kind: 'Node', apiVersion: 'v1', name: ev.node.name, ...(ev.node.uid ? { uid: ev.node.uid } : {}) },
    reason: ev.reason,
    message: ev.message,
    type: ev.type,
    source: { component: 'linkward', host: ev.node.name },
    reportingComponent: 'linkward.io/agent',
    reportingInstance: ev.node.name,
    firstTimestamp: at,
    lastTimestamp: at,
    count: 1,
  };
}
