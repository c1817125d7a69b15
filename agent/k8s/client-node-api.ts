/** NodeApi adapter on @kubernetes/client-node 2.x, loaded lazily (dynamic import) so a disabled agent never pays its ~90 MB. */
import type * as K8s from '@kubernetes/client-node';
import { isLwError, LwError } from '../base/errors.ts';
import type { ClusterSource } from './cluster.ts';
import { K8sErrorCode } from './errors.ts';
import type { EventInput, NodeApi } from './api.ts';
import { eventBody, toLease, toNodeView, toPod } from './convert.ts';
import { mapError } from './map-error.ts';
import { toNodeWatchEvent } from './watch-event.ts';

/**
 * Inactivity limit of a client-node watch stream (its default, 30 s, is shorter than the API server's bookmark
 * period of about a minute); the NodeWatcher's own idle check (WATCH_IDLE_MS) is what ends a dead stream.
 */
const WATCH_INACTIVITY_MS = 10 * 60_000;

export { toNodeView } from './convert.ts';

type Lib = typeof K8s;

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
    middleware: [
      {
        pre: (ctx: K8s.RequestContext) => {
          ctx.setSignal(AbortSignal.timeout(timeoutMs));
          return of(ctx);
        },
        post: (r: K8s.ResponseContext) => of(r),
      },
    ],
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
    listOwnNode: (name) =>
      call(`list node ${name}`, async () => {
        const l = await core.listNode({ fieldSelector: `metadata.name=${name}` }, timeout());
        const item = l.items[0];
        return { node: item ? toNodeView(item) : null, resourceVersion: l.metadata?.resourceVersion ?? '' };
      }),
    watchNode: (name, o) =>
      new Promise<void>((resolve, reject) => {
        const what = `watch node ${name}`;
        const w = new lib.Watch(kc);
        (w as unknown as { requestTimeoutMs: number }).requestTimeoutMs = WATCH_INACTIVITY_MS;
        let ctl: AbortController | undefined;
        let failed: unknown = null;
        let opened = false;
        let finished = false;
        const open = (): void => {
          if (opened || finished) return;
          opened = true;
          o.onOpen?.();
        };
        const onAbort = (): void => ctl?.abort();
        o.signal.addEventListener('abort', onAbort, { once: true });
        const query = {
          fieldSelector: `metadata.name=${name}`,
          resourceVersion: o.resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds: o.timeoutSeconds,
        };
        const onEvent = (type: string, obj: unknown): void => {
          if (failed) return;
          open();
          try {
            const e = toNodeWatchEvent(type, obj, what);
            if (e) o.onEvent(e);
          } catch (err) {
            failed = err;
            ctl?.abort();
          }
        };
        const done = (err: unknown): void => {
          finished = true;
          o.signal.removeEventListener('abort', onAbort);
          if (failed) return reject(failed);
          if (o.signal.aborted || !err) return resolve();
          // A non-200 answer carries `statusCode`; mapError reads `code`.
          const status = (err as { statusCode?: unknown }).statusCode;
          reject(isLwError(err) ? err : mapError(typeof status === 'number' ? Object.assign(new Error((err as Error).message), { code: status }) : err, what));
        };
        w.watch('/api/v1/nodes', query, onEvent, done).then(
          (c) => {
            // Watch.watch returns once the server answered 200 (or after done() on an error).
            ctl = c;
            open();
            if (o.signal.aborted) c.abort();
          },
          (err: unknown) => done(err),
        );
      }),
    listNodes: (labelSelector) =>
      call('list nodes', async () =>
        (await core.listNode({ resourceVersion: '0', ...(labelSelector ? { labelSelector } : {}) }, timeout())).items.map(toNodeView),
      ),
    patchNode: (name, body) => call(`patch node ${name}`, async () => toNodeView(await core.patchNode({ name, body }, withType(lib.PatchStrategy.MergePatch)))),
    patchNodeStatus: (name, body) =>
      call(`patch node ${name} status`, async () => toNodeView(await core.patchNodeStatus({ name, body }, withType(lib.PatchStrategy.StrategicMergePatch)))),
    createEvent: (ev: EventInput) =>
      call('create event', async () => {
        await core.createNamespacedEvent({ namespace: ev.namespace, body: eventBody(ev, new Date(ev.nowMs)) }, timeout());
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
        toLease(
          await coord.createNamespacedLease(
            {
              namespace: l.namespace,
              body: {
                metadata: { name: l.name, namespace: l.namespace, annotations: l.annotations },
                spec: { holderIdentity: l.holderIdentity, leaseDurationSeconds: l.leaseDurationSeconds },
              },
            },
            timeout(),
          ),
        ),
      ),
    replaceLease: (l) =>
      call(`replace lease ${l.namespace}/${l.name}`, async () =>
        toLease(
          await coord.replaceNamespacedLease(
            {
              namespace: l.namespace,
              name: l.name,
              body: {
                metadata: { name: l.name, namespace: l.namespace, resourceVersion: l.resourceVersion, annotations: l.annotations },
                spec: { holderIdentity: l.holderIdentity, leaseDurationSeconds: l.leaseDurationSeconds },
              },
            },
            timeout(),
          ),
        ),
      ),
    listPodsOnNode: (node) =>
      call(`list pods on ${node}`, async () => (await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` }, timeout())).items.map(toPod)),
    evictPod: (namespace, name) =>
      call(`evict pod ${namespace}/${name}`, async () => {
        await core.createNamespacedPodEviction(
          { namespace, name, body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace } } },
          timeout(),
        );
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
