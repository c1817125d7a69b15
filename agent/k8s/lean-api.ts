/** NodeApi adapter on undici (no @kubernetes/client-node): the same calls, a few MB instead of ~70 MB of RSS. */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import type * as K8s from '@kubernetes/client-node';
import { RotatingDispatcher } from '../base/dispatcher-pool.ts';
import { LwError } from '../base/errors.ts';
import type { EventInput, LeaseView, NodeApi } from './api.ts';
import type { ClusterSource } from './cluster.ts';
import { eventBody, toLease, toNodeView, toPod } from './convert.ts';
import { toNodeWatchEvent } from './watch-event.ts';
import { loadCredentials, type Credentials } from './credentials.ts';
import { K8sErrorCode } from './errors.ts';
import { mapError } from './map-error.ts';

/** Projected ServiceAccount tokens rotate (hourly by default); re-reading each minute is plenty. */
const TOKEN_REREAD_MS = 60_000;
/** Largest response accepted (a Node object with many images is ~50 KB; a pod list on a busy node a few MB). */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

type Json = Record<string, unknown>;

/**
 * Rejects with the signal's reason as soon as it aborts. undici's `request` honours its signal only once the request
 * is on a socket, and its connect timeout fires up to ~0.5 s late (coarse timers), so the bound is enforced here too.
 */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e as Error);
      },
    );
  });
}

/** HTTP error as client-node's ApiException looks to mapError (numeric code, parsed body). */
class HttpError extends Error {
  readonly code: number;
  readonly body: unknown;
  constructor(code: number, body: unknown) {
    super(`HTTP ${code}`);
    this.code = code;
    this.body = body;
  }
}

/** Creates the lean adapter; throws LW_K8S_CONFIG_INVALID or LW_K8S_LEAN_UNSUPPORTED. */
export async function createLeanApi(source: ClusterSource, timeoutMs: number, creds: Credentials = loadCredentials(source)): Promise<NodeApi> {
  // One pool per active uplink (reconnect() starts the next); a retired pool finishes what is on the wire, then closes.
  const pool = new RotatingDispatcher(
    () =>
      new Agent({
        // The connect is bounded by the request timeout too: undici's `request` only sees the abort signal once the request
        // is on a socket, so without this a blackholed API server held each new connection (and a watch being opened) for
        // undici's 10 s default connect timeout (D2).
        connect: {
          timeout: timeoutMs,
          ...(creds.ca ? { ca: creds.ca } : {}),
          ...(creds.cert ? { cert: creds.cert } : {}),
          ...(creds.key ? { key: creds.key } : {}),
          rejectUnauthorized: !creds.insecure,
          ...(creds.servername ? { servername: creds.servername } : {}),
        },
        keepAliveTimeout: 30_000,
      }),
  );
  let token = creds.token;
  let tokenReadAt = -Infinity;
  const bearer = (): string | undefined => {
    if (creds.tokenFile && performance.now() - tokenReadAt > TOKEN_REREAD_MS) {
      try {
        token = readFileSync(creds.tokenFile, 'utf8').trim();
        tokenReadAt = performance.now();
      } catch (cause) {
        throw new LwError(K8sErrorCode.CONFIG_INVALID, `cannot read token file ${creds.tokenFile}: ${(cause as Error).message}`, { cause });
      }
    }
    return token;
  };
  async function call(
    what: string,
    method: 'GET' | 'POST' | 'PUT' | 'PATCH',
    path: string,
    body?: unknown,
    contentType = 'application/json',
    accept = 'application/json',
  ): Promise<Json> {
    try {
      const headers: Record<string, string> = { accept, 'user-agent': 'linkward' };
      const t = bearer();
      if (t) headers.authorization = `Bearer ${t}`;
      if (body !== undefined) headers['content-type'] = contentType;
      const signal = AbortSignal.timeout(timeoutMs);
      const res = await untilAborted(
        request(creds.server + path, { method, headers, dispatcher: pool.current, signal, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) }),
        signal,
      );
      const len = Number(res.headers['content-length'] ?? 0);
      if (len > MAX_BODY_BYTES) {
        res.body.destroy();
        throw new HttpError(502, `response of ${len} bytes exceeds ${MAX_BODY_BYTES}`);
      }
      const text = await res.body.text();
      const parsed = text ? (JSON.parse(text) as Json) : {};
      if (res.statusCode >= 300) throw new HttpError(res.statusCode, parsed);
      return parsed;
    } catch (e) {
      if (e instanceof LwError) throw e;
      throw mapError(e, what);
    }
  }
  /** Streams a watch: one JSON event per line; resolves at the end of the stream or on `signal`. */
  async function watch(what: string, path: string, signal: AbortSignal, onLine: (type: string, object: unknown) => void, onOpen?: () => void): Promise<void> {
    try {
      const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'linkward' };
      const t = bearer();
      if (t) headers.authorization = `Bearer ${t}`;
      // No body timeout: a watch is quiet between events; the caller detects a dead stream (no bookmark) itself.
      const res = await request(creds.server + path, { method: 'GET', headers, dispatcher: pool.current, signal, headersTimeout: timeoutMs, bodyTimeout: 0 });
      if (res.statusCode >= 300) {
        const text = await res.body.text();
        throw new HttpError(res.statusCode, text ? (JSON.parse(text) as Json) : {});
      }
      onOpen?.();
      let buf = '';
      for await (const chunk of res.body) {
        buf += (chunk as Buffer).toString('utf8');
        if (buf.length > MAX_BODY_BYTES) throw new HttpError(502, `watch event larger than ${MAX_BODY_BYTES} bytes`);
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
          const line = buf.slice(0, i).trim();
          buf = buf.slice(i + 1);
          if (line) {
            const ev = JSON.parse(line) as { type?: string; object?: unknown };
            onLine(String(ev.type ?? ''), ev.object);
          }
        }
      }
    } catch (e) {
      if (signal.aborted) return;
      if (e instanceof LwError) throw e;
      throw mapError(e, what);
    }
  }
  const orNull = async <T>(p: Promise<T>): Promise<T | null> =>
    p.catch((e: unknown) => {
      if (e instanceof LwError && e.code === K8sErrorCode.NOT_FOUND) return null;
      throw e;
    });
  const enc = encodeURIComponent;
  const leaseBody = (l: Omit<LeaseView, 'resourceVersion'> & { resourceVersion?: string }): Json => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: l.name, namespace: l.namespace, annotations: l.annotations, ...(l.resourceVersion ? { resourceVersion: l.resourceVersion } : {}) },
    spec: {
      ...(l.holderIdentity ? { holderIdentity: l.holderIdentity } : {}),
      ...(l.leaseDurationSeconds !== undefined ? { leaseDurationSeconds: l.leaseDurationSeconds } : {}),
    },
  });
  const leasePath = (ns: string, name?: string): string => `/apis/coordination.k8s.io/v1/namespaces/${enc(ns)}/leases${name ? '/' + enc(name) : ''}`;
  return {
    source: `${source.description} (lean client)`,
    getNode: async (name) => toNodeView((await call(`get node ${name}`, 'GET', `/api/v1/nodes/${enc(name)}`)) as K8s.V1Node),
    listOwnNode: async (name) => {
      const l = await call(`list node ${name}`, 'GET', `/api/v1/nodes?fieldSelector=${enc(`metadata.name=${name}`)}`);
      const item = ((l.items as K8s.V1Node[] | undefined) ?? [])[0];
      return {
        node: item ? toNodeView(item) : null,
        resourceVersion: String((l.metadata as { resourceVersion?: unknown } | undefined)?.resourceVersion ?? ''),
      };
    },
    watchNode: (name, o) => {
      const q = `watch=true&fieldSelector=${enc(`metadata.name=${name}`)}&resourceVersion=${enc(o.resourceVersion)}&allowWatchBookmarks=true&timeoutSeconds=${o.timeoutSeconds}`;
      const what = `watch node ${name}`;
      return watch(
        what,
        `/api/v1/nodes?${q}`,
        o.signal,
        (type, object) => {
          const e = toNodeWatchEvent(type, object, what);
          if (e) o.onEvent(e);
        },
        o.onOpen,
      );
    },
    listNodes: async (sel) =>
      (
        ((await call('list nodes', 'GET', `/api/v1/nodes?resourceVersion=0${sel ? `&labelSelector=${enc(sel)}` : ''}`)).items as K8s.V1Node[] | undefined) ?? []
      ).map((n) => toNodeView(n)),
    patchNode: async (name, body) =>
      toNodeView((await call(`patch node ${name}`, 'PATCH', `/api/v1/nodes/${enc(name)}`, body, 'application/merge-patch+json')) as K8s.V1Node),
    patchNodeStatus: async (name, body) =>
      toNodeView(
        (await call(`patch node ${name} status`, 'PATCH', `/api/v1/nodes/${enc(name)}/status`, body, 'application/strategic-merge-patch+json')) as K8s.V1Node,
      ),
    createEvent: async (ev: EventInput) => {
      await call('create event', 'POST', `/api/v1/namespaces/${enc(ev.namespace)}/events`, {
        apiVersion: 'v1',
        kind: 'Event',
        ...eventBody(ev, new Date(ev.nowMs).toISOString()),
      });
    },
    getLease: async (ns, name) => {
      const l = await orNull(call(`get lease ${ns}/${name}`, 'GET', leasePath(ns, name)));
      return l ? toLease(l as K8s.V1Lease) : null;
    },
    createLease: async (l) => toLease((await call(`create lease ${l.namespace}/${l.name}`, 'POST', leasePath(l.namespace), leaseBody(l))) as K8s.V1Lease),
    replaceLease: async (l) =>
      toLease((await call(`replace lease ${l.namespace}/${l.name}`, 'PUT', leasePath(l.namespace, l.name), leaseBody(l))) as K8s.V1Lease),
    listPodsOnNode: async (node) =>
      (((await call(`list pods on ${node}`, 'GET', `/api/v1/pods?fieldSelector=${enc(`spec.nodeName=${node}`)}`)).items as K8s.V1Pod[] | undefined) ?? []).map(
        (p) => toPod(p),
      ),
    evictPod: async (ns, name) => {
      await call(`evict pod ${ns}/${name}`, 'POST', `/api/v1/namespaces/${enc(ns)}/pods/${enc(name)}/eviction`, {
        apiVersion: 'policy/v1',
        kind: 'Eviction',
        metadata: { name, namespace: ns },
      });
    },
    getPod: async (ns, name) => {
      const p = await orNull(call(`get pod ${ns}/${name}`, 'GET', `/api/v1/namespaces/${enc(ns)}/pods/${enc(name)}`));
      return p ? toPod(p as K8s.V1Pod) : null;
    },
    reconnect: () => pool.rotate(),
    close: () => void pool.close().catch(() => undefined),
  };
}
