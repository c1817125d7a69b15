/** NodeApi adapter on @kubernetes/client-node 2.x, loaded lazily (dynamic import) so a disabled agent never pays its ~90 MB. */
import type * as K8s from '@kubernetes/client-node';
import { LwError } from '../errors.ts';
import type { ClusterSource } from './cluster.ts';
import { K8sErrorCode } from './errors.ts';
import type { EventInput, LeaseView, NodeApi, PodView } from './api.ts';
import type { NodeCondition, NodeView, Taint } from './types.ts';

type Lib = typeof K8s;

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

function toLease(l: K8s.V1Lease): LeaseView {
  return {
    name: l.metadata?.name ?? '',
    namespace: l.metadata?.namespace ?? '',
    resourceVersion: l.metadata?.resourceVersion ?? '',
    annotations: { ...(l.metadata?.annotations ?? {}) },
    ...(l.spec?.holderIdentity ? { holderIdentity: l.spec.holderIdentity } : {}),
    ...(l.spec?.leaseDurationSeconds !== undefined ? { leaseDurationSeconds: l.spec.leaseDurationSeconds } : {}),
  };
}

function toPod(p: K8s.V1Pod): PodView {
  return {
    namespace: p.metadata?.namespace ?? '',
    name: p.metadata?.name ?? '',
    ...(p.metadata?.uid ? { uid: p.metadata.uid } : {}),
    ownerKinds: (p.metadata?.ownerReferences ?? []).filter((o) => o.controller !== false).map((o) => o.kind),
    mirror: p.metadata?.annotations?.['kubernetes.io/config.mirror'] !== undefined,
    ...(p.status?.phase ? { phase: p.status.phase } : {}),
  };
}

/** Maps any client-node failure to an LwError with a K8sErrorCode (callers branch on it). */
export function mapError(e: unknown, what: string): LwError {
  // DOMException (timeouts) also has a numeric `code`; only ApiException carries an HTTP status (≥ 100).
  const rawCode = (e as { code?: unknown }).code;
  const status = typeof rawCode === 'number' && rawCode >= 100 && !(e instanceof DOMException) ? rawCode : undefined;
  const body = (e as { body?: unknown }).body;
  const detail = typeof body === 'string' ? body.slice(0, 300) : body && typeof body === 'object' ? String((body as { message?: unknown }).message ?? '') : '';
  const ctx = { what, status, detail };
  if (status === 409) return new LwError(K8sErrorCode.CONFLICT, `${what}: conflict (the object changed); re-reading and retrying`, { cause: e, context: ctx });
  if (status === 404) return new LwError(K8sErrorCode.NOT_FOUND, `${what}: not found`, { cause: e, context: ctx });
  if (status === 429) return new LwError(K8sErrorCode.TOO_MANY_REQUESTS, `${what}: too many requests (${detail || 'PodDisruptionBudget or throttling'})`, { cause: e, context: ctx });
  if (status === 401 || status === 403) return new LwError(K8sErrorCode.FORBIDDEN, `${what}: forbidden (${status}); apply deploy/rbac.yaml and check the admission policy`, { cause: e, context: ctx });
  if (status !== undefined && status >= 400 && status < 500) return new LwError(K8sErrorCode.REJECTED, `${what}: rejected with ${status} ${detail}`, { cause: e, context: ctx });
  if (status !== undefined) return new LwError(K8sErrorCode.UNAVAILABLE, `${what}: API server answered ${status}; will retry with backoff`, { cause: e, context: ctx });
  const name = String((e as { name?: unknown }).name ?? '');
  const causeName = String((e as { cause?: { name?: unknown } }).cause?.name ?? '');
  if (/TimeoutError|AbortError/.test(name + ' ' + causeName + ' ' + String((e as Error).message))) return new LwError(K8sErrorCode.TIMEOUT, `${what}: API server did not answer in time; will retry with backoff`, { cause: e, context: ctx });
  const cause = (e as { cause?: { code?: unknown } }).cause;
  return new LwError(K8sErrorCode.UNAVAILABLE, `${what}: API server unreachable (${String(cause?.code ?? (e as Error).message)}); will retry with backoff`, { cause: e, context: ctx });
}

/** Loads client-node, the credentials from `source`, and returns the adapter. Rejects with LW_K8S_CONFIG_INVALID. */
export async function createClientNodeApi(source: ClusterSource, timeoutMs: number): Promise<NodeApi> {
  const lib: Lib = await import('@kubernetes/client-node');
  const { of } = await import('@kubernetes/client-node/dist/gen/rxjsStub.js');
  const kc = new lib.KubeConfig();
  try {
    if (source.kind === 'in-cluster') kc.loadFromCluster();
    else kc.loadFromFile(source.path);
    if (!kc.getCurrentCluster()) throw new Error('no current cluster in the kubeconfig');
  } catch (cause) {
    throw new LwError(K8sErrorCode.CONFIG_INVALID, `cannot load Kubernetes credentials from ${source.description}: ${(cause as Error).message}`, { cause });
  }
  const core = kc.makeApiClient(lib.CoreV1Api);
  const coord = kc.makeApiClient(lib.CoordinationV1Api);
  /** Per-request timeout: an AbortSignal set by a middleware (client-node passes it to fetch). */
  const timeout = (): K8s.ConfigurationOptions => ({
    middleware: [{ pre: (ctx: K8s.RequestContext) => { ctx.setSignal(AbortSignal.timeout(timeoutMs)); return of(ctx); }, post: (r: K8s.ResponseContext) => of(r) }],
    middlewareMergeStrategy: 'append',
  });
  const withType = (type: string): K8s.ConfigurationOptions => lib.setHeaderOptions('Content-Type', type, timeout());
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      throw mapError(e, what);
    }
  };
  return {
    source: source.description,
    getNode: (name) => call(`get node ${name}`, async () => toNodeView(await core.readNode({ name }, timeout()))),
    listNodeNames: (labelSelector) => call('list nodes', async () => (await core.listNode(labelSelector ? { labelSelector } : {}, timeout())).items.map((n) => n.metadata?.name ?? '')),
    patchNode: (name, body) => call(`patch node ${name}`, async () => toNodeView(await core.patchNode({ name, body }, withType(lib.PatchStrategy.MergePatch)))),
    patchNodeStatus: (name, body) => call(`patch node ${name} status`, async () => toNodeView(await core.patchNodeStatus({ name, body }, withType(lib.PatchStrategy.StrategicMergePatch)))),
    createEvent: (ev: EventInput) =>
      call('create event', async () => {
        const now = new Date(ev.nowMs);
        await core.createNamespacedEvent(
          {
            namespace: ev.namespace,
            body: {
              metadata: { name: `${ev.node.name}.${ev.nowMs.toString(16)}${Math.floor(Math.random() * 0xfff).toString(16)}`, namespace: ev.namespace },
              involvedObject: { kind: 'Node', apiVersion: 'v1', name: ev.node.name, ...(ev.node.uid ? { uid: ev.node.uid } : {}) },
              reason: ev.reason,
              message: ev.message,
              type: ev.type,
              source: { component: 'linkward', host: ev.node.name },
              reportingComponent: 'linkward.io/agent',
              reportingInstance: ev.node.name,
              firstTimestamp: now,
              lastTimestamp: now,
              count: 1,
            },
          },
          timeout(),
        );
      }),
    getLease: (namespace, name) =>
      call(`get lease ${namespace}/${name}`, async () => {
        try {
          return toLease(await coord.readNamespacedLease({ namespace, name }, timeout()));
        } catch (e) {
          if ((e as { code?: unknown }).code === 404) return null;
          throw e;
        }
      }),
    createLease: (l) =>
      call(`create lease ${l.namespace}/${l.name}`, async () =>
        toLease(await coord.createNamespacedLease({ namespace: l.namespace, body: { metadata: { name: l.name, namespace: l.namespace, annotations: l.annotations }, spec: { holderIdentity: l.holderIdentity, leaseDurationSeconds: l.leaseDurationSeconds } } }, timeout())),
      ),
    replaceLease: (l) =>
      call(`replace lease ${l.namespace}/${l.name}`, async () =>
        toLease(
          await coord.replaceNamespacedLease(
            { namespace: l.namespace, name: l.name, body: { metadata: { name: l.name, namespace: l.namespace, resourceVersion: l.resourceVersion, annotations: l.annotations }, spec: { holderIdentity: l.holderIdentity, leaseDurationSeconds: l.leaseDurationSeconds } } },
            timeout(),
          ),
        ),
      ),
    listPodsOnNode: (node) => call(`list pods on ${node}`, async () => (await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` }, timeout())).items.map(toPod)),
    evictPod: (namespace, name) =>
      call(`evict pod ${namespace}/${name}`, async () => {
        await core.createNamespacedPodEviction({ namespace, name, body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace } } }, timeout());
      }),
    getPod: (namespace, name) =>
      call(`get pod ${namespace}/${name}`, async () => {
        try {
          return toPod(await core.readNamespacedPod({ namespace, name }, timeout()));
        } catch (e) {
          if ((e as { code?: unknown }).code === 404) return null;
          throw e;
        }
      }),
  };
}
