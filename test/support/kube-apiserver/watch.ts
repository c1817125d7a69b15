/** Watch streams (`?watch=true`): newline-delimited JSON events, replay from resourceVersion, selectors, bookmarks, 410 Gone, timeoutSeconds. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KObj, ObjectStore } from './store.ts';
import { apiVersionOf, storeKey, type ResourceDef } from './resources.ts';
import { status } from './status.ts';

/** An open watch the server can send bookmarks to. */
export interface OpenWatch {
  /** Sends a BOOKMARK with the current resourceVersion (only when the client asked with allowWatchBookmarks=true). */
  bookmark(): void;
}

/** Streams events of `res` (in namespace `nsParam`, '' = all) until the client goes or timeoutSeconds passes. */
export function serveWatch(
  store: ObjectStore,
  resDef: ResourceDef,
  nsParam: string,
  url: URL,
  req: IncomingMessage,
  res: ServerResponse,
  open: Set<OpenWatch>,
): void {
  const sk = storeKey(resDef);
  const q = url.searchParams;
  const lp = q.get('labelSelector');
  const fp = q.get('fieldSelector');
  const ns = resDef.namespaced && nsParam ? nsParam : null;
  // A deleted object no longer matches a selector in the store: let DELETED through for objects that are gone.
  const matches = (o: KObj): boolean =>
    store.list(sk, ns, lp, fp).some((x) => x.metadata?.uid === o.metadata?.uid) ||
    !store.get(sk, String(o.metadata?.namespace ?? ''), String(o.metadata?.name ?? ''));
  res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
  // As kube-apiserver: the headers go out at once, before any event (a client sees the watch open).
  res.flushHeaders();
  const write = (type: string, object: KObj): void => {
    if (!res.destroyed) res.write(JSON.stringify({ type, object }) + '\n');
  };
  const rvParam = q.get('resourceVersion');
  let since = Number(rvParam ?? '0');
  if (rvParam && rvParam !== '0' && since < store.compactedRv) {
    // As kube-apiserver: HTTP 200, then one ERROR event carrying a 410 Status, then the end of the stream.
    write('ERROR', status(410, 'Expired', `too old resource version: ${since} (${store.compactedRv})`) as KObj);
    res.end();
    return;
  }
  if (!rvParam || rvParam === '0') {
    for (const o of store.list(sk, ns, lp, fp)) write('ADDED', o);
    since = store.resourceVersion;
  }
  const off = store.watch(sk, since, (e) => {
    if (matches(e.object)) write(e.type, e.object);
  });
  const handle: OpenWatch = {
    bookmark: () => write('BOOKMARK', { kind: resDef.kind, apiVersion: apiVersionOf(resDef), metadata: { resourceVersion: String(store.resourceVersion) } }),
  };
  if (q.get('allowWatchBookmarks') === 'true') open.add(handle);
  const timeoutS = Number(q.get('timeoutSeconds') ?? '0');
  const timer = timeoutS > 0 ? setTimeout(() => res.end(), timeoutS * 1000) : undefined;
  const done = (): void => {
    off();
    open.delete(handle);
    if (timer) clearTimeout(timer);
  };
  req.on('close', done);
  res.on('close', done);
}
