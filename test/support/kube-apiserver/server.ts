/** Test kube-apiserver (node:http, in memory): REST verbs, patches, subresources, watch, eviction, fault injection. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { jsonPatch, mergePatch, PatchError, strategicMergePatch, type Json } from './patch.ts';
import { ObjectStore, type KObj } from './store.ts';
import { apiVersionOf, coreVersions, findResource, groupInfo, groupList, resourceList, storeKey, type ResourceDef } from './resources.ts';
import { evict } from './eviction.ts';
import { status } from './status.ts';
import { toTable } from './table.ts';
import { serveWatch, type OpenWatch } from './watch.ts';

/** One recorded request (tests count writes by verb and path). */
export interface RecordedRequest {
  method: string;
  path: string;
  contentType: string;
  status: number;
  /** Request body as text (JSON requests only; protobuf is not kept). */
  body?: string;
  /** Which connection carried the request, numbered as accepted (keep-alive reuse, fresh connections after a failover). */
  conn?: number | undefined;
}

/** A fault: matching requests get `status` (after `delayMs`), or never an answer (`hang`). */
export interface Fault {
  method?: string;
  /** Regex tested against the path (without query). */
  path?: RegExp;
  status?: number;
  delayMs?: number;
  hang?: boolean;
  /** How many requests it applies to (default: unlimited). */
  times?: number;
  /** The request is carried out, then answered with `status`: a write whose answer was lost (the client cannot tell). */
  afterApply?: boolean;
}

/** JSON with sorted keys, for "did anything change" comparisons. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) : x,
  );
}

interface Target {
  res: ResourceDef;
  ns: string;
  name: string | undefined;
  sub: string | undefined;
}

/** The server. `url` is valid after `start()`. */
export class KubeApiServer {
  readonly store = new ObjectStore();
  readonly requests: RecordedRequest[] = [];
  faults: Fault[] = [];
  /** Watches opened with allowWatchBookmarks=true (the real server bookmarks them about once a minute). */
  readonly #openWatches = new Set<OpenWatch>();
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  /** Accepted connections, numbered from 1 (a client port may be reused; this number is not). */
  readonly #connIds = new WeakMap<Socket, number>();
  #connCount = 0;
  #port = 0;
  readonly #tls: { key: string; cert: string; clientCa?: string } | undefined;

  /** `tls`: serve HTTPS with this key and certificate (PEM); `clientCa`: require a client certificate signed by it. */
  constructor(opts: { tls?: { key: string; cert: string; clientCa?: string } } = {}) {
    this.#tls = opts.tls;
  }

  get url(): string {
    return `${this.#tls ? 'https' : 'http'}://127.0.0.1:${this.#port}`;
  }

  /** Listens on 127.0.0.1 (port 0 the first time, the same port after `goOffline`). */
  async start(): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse): void => void this.#handle(req, res);
    const srv: Server = this.#tls
      ? createTlsServer(
          { key: this.#tls.key, cert: this.#tls.cert, ...(this.#tls.clientCa ? { ca: this.#tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}) },
          handler,
        )
      : createServer(handler);
    const conn = this.#tls ? 'secureConnection' : 'connection';
    srv.on(conn, (s: Socket) => {
      this.#sockets.add(s);
      this.#connIds.set(s, ++this.#connCount);
      s.on('close', () => this.#sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(this.#port, '127.0.0.1', () => resolve());
    });
    const addr = srv.address();
    if (addr && typeof addr === 'object') this.#port = addr.port;
    this.#server = srv;
  }

  /** Closes the listener and every connection: clients now get ECONNREFUSED. */
  async goOffline(): Promise<void> {
    const srv = this.#server;
    this.#server = undefined;
    if (!srv) return;
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  }

  async stop(): Promise<void> {
    await this.goOffline();
  }

  /** Sends a BOOKMARK (current resourceVersion) to every open watch that allows them; tests call it per simulated minute. */
  bookmark(): number {
    for (const w of this.#openWatches) w.bookmark();
    return this.#openWatches.size;
  }

  /** Open watches that allow bookmarks (tests wait for a client to be watching). */
  get openWatches(): number {
    return this.#openWatches.size;
  }

  /** Writes (anything but GET) recorded so far, optionally only those whose path matches. */
  writes(path?: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method !== 'GET' && (path === undefined || path.test(r.path)));
  }

  /** Convenience: creates or replaces an object directly in the store. */
  seed(resource: string, obj: KObj): KObj {
    return this.store.put(resource, obj);
  }

  #fault(method: string, path: string): Fault | undefined {
    const f = this.faults.find(
      (x) => (x.method === undefined || x.method === method) && (x.path === undefined || x.path.test(path)) && (x.times === undefined || x.times > 0),
    );
    if (f && f.times !== undefined) f.times--;
    return f;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const body = await new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', () => resolve(Buffer.alloc(0)));
    });
    const contentType = String(req.headers['content-type'] ?? '');
    const conn = this.#connIds.get(req.socket);
    const reqText = contentType.includes('json') ? body.toString() : undefined;
    const send = (code: number, obj: unknown): void => {
      this.requests.push({ method, path: url.pathname, contentType, status: code, conn, ...(reqText ? { body: reqText } : {}) });
      if (res.destroyed) return;
      const text = JSON.stringify(obj);
      res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    const fault = this.#fault(method, url.pathname);
    if (fault?.hang) {
      this.requests.push({ method, path: url.pathname, contentType, status: 0, conn });
      return;
    }
    if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
    // afterApply: the write happens (an error in it is ignored), the client still gets the injected status below.
    if (fault?.status && fault.afterApply)
      await Promise.resolve()
        .then(() => this.#route(method, url, body, contentType, req, res))
        .catch(() => undefined);
    if (fault?.status) {
      const reason = fault.status === 409 ? 'Conflict' : fault.status === 429 ? 'TooManyRequests' : 'ServiceUnavailable';
      send(fault.status, status(fault.status, reason, `injected fault ${fault.status}`));
      return;
    }
    try {
      const out = this.#route(method, url, body, contentType, req, res);
      if (out === 'streaming') return;
      send(out[0], out[1]);
    } catch (e) {
      if (e instanceof PatchError) send(e.status, status(e.status, e.status === 422 ? 'Invalid' : 'BadRequest', e.message));
      else send(500, status(500, 'InternalError', (e as Error).message));
    }
  }

  #route(method: string, url: URL, body: Buffer, contentType: string, req: IncomingMessage, res: ServerResponse): [number, unknown] | 'streaming' {
    const p = url.pathname.replace(/\/$/, '');
    if (method === 'GET') {
      if (p === '/version') return [200, { major: '1', minor: '32', gitVersion: 'v1.32.0-linkward-test', platform: 'linux/amd64' }];
      if (p === '/api') return [200, coreVersions()];
      if (p === '/apis') return [200, groupList()];
      if (p === '/api/v1') return [200, resourceList('', 'v1')];
      const m = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(p);
      if (m) {
        const doc = m[2] ? resourceList(m[1] ?? '', m[2]) : groupInfo(m[1] ?? '');
        return doc ? [200, doc] : [404, status(404, 'NotFound', 'the server could not find the requested resource')];
      }
    }
    const t = this.#target(p);
    if (!t) return [404, status(404, 'NotFound', 'the server could not find the requested resource')];
    const sk = storeKey(t.res);
    const notFound = (): [number, unknown] => [404, status(404, 'NotFound', `${t.res.name} "${t.name}" not found`, { name: t.name, kind: t.res.name })];
    if (t.name === undefined) {
      if (method === 'GET') {
        const q = url.searchParams;
        if (q.get('watch') === 'true' || q.get('watch') === '1') {
          serveWatch(this.store, t.res, t.ns, url, req, res, this.#openWatches);
          this.requests.push({ method: 'GET', path: url.pathname + '?watch', contentType: '', status: 200, conn: this.#connIds.get(req.socket) });
          return 'streaming';
        }
        const items = this.store.list(sk, t.res.namespaced && t.ns ? t.ns : null, q.get('labelSelector'), q.get('fieldSelector'));
        const list = { kind: `${t.res.kind}List`, apiVersion: apiVersionOf(t.res), metadata: { resourceVersion: String(this.store.resourceVersion) }, items };
        const accept = String(req.headers.accept ?? '');
        if (accept.includes('as=Table')) return [200, toTable(t.res, items)];
        if (accept.includes('as=PartialObjectMetadataList')) {
          return [
            200,
            {
              kind: 'PartialObjectMetadataList',
              apiVersion: 'meta.k8s.io/v1',
              metadata: list.metadata,
              items: items.map((o) => ({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata })),
            },
          ];
        }
        return [200, list];
      }
      if (method === 'POST') return this.#create(t, JSON.parse(body.toString() || '{}') as KObj);
      return [405, status(405, 'MethodNotAllowed', 'method not allowed')];
    }
    const cur = this.store.get(sk, t.ns, t.name);
    if (t.sub === 'eviction' && method === 'POST') return evict(this.store, t.ns, t.name, cur);
    if (method === 'GET') {
      if (!cur) return notFound();
      return [200, String(req.headers.accept ?? '').includes('as=Table') ? toTable(t.res, [cur]) : cur];
    }
    if (method === 'DELETE') {
      // kubectl sends DeleteOptions as protobuf: the body was read above and is ignored.
      const gone = this.store.delete(sk, t.ns, t.name);
      return gone ? [200, gone] : notFound();
    }
    if (!cur) return notFound();
    let next: KObj;
    if (method === 'PUT') {
      next = JSON.parse(body.toString() || '{}') as KObj;
      const rv = next.metadata?.resourceVersion;
      if (rv === undefined || rv === '') return [422, status(422, 'Invalid', 'metadata.resourceVersion: Invalid value: 0x0: must be specified for an update')];
    } else if (method === 'PATCH') {
      const patch = JSON.parse(body.toString() || 'null') as Json;
      if (contentType.startsWith('application/json-patch+json')) next = jsonPatch(cur, patch) as KObj;
      else if (contentType.startsWith('application/merge-patch+json')) next = mergePatch(cur, patch) as KObj;
      else if (contentType.startsWith('application/strategic-merge-patch+json')) next = strategicMergePatch(cur, patch) as KObj;
      else
        return [
          415,
          status(
            415,
            'UnsupportedMediaType',
            `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`,
          ),
        ];
      // A resourceVersion inside a patch is a precondition, as on the real server.
    } else return [405, status(405, 'MethodNotAllowed', 'method not allowed')];
    const wantRv = next.metadata?.resourceVersion;
    if (wantRv !== undefined && wantRv !== cur.metadata?.resourceVersion) {
      return [
        409,
        status(
          409,
          'Conflict',
          `Operation cannot be fulfilled on ${t.res.name} "${t.name}": the object has been modified; please apply your changes to the latest version and try again`,
          { name: t.name, kind: t.res.name },
        ),
      ];
    }
    const nextMd: { [k: string]: Json } = {
      ...(next.metadata ?? {}),
      name: t.name,
      uid: cur.metadata?.uid ?? null,
      creationTimestamp: cur.metadata?.creationTimestamp ?? null,
      resourceVersion: cur.metadata?.resourceVersion ?? null,
    };
    if (t.res.namespaced) nextMd.namespace = t.ns;
    next.metadata = nextMd;
    if (t.sub === 'status') {
      // The status subresource changes status only.
      const only = structuredClone(cur);
      if (next.status !== undefined) only.status = next.status;
      next = only;
    } else if (t.res.sub?.includes('status') && t.res.kind !== 'Namespace') {
      // The main resource ignores status changes.
      if (cur.status === undefined) delete next.status;
      else next.status = cur.status;
    }
    delete (next.metadata ??= {}).resourceVersion;
    // A patch that changes nothing does not bump resourceVersion (no write, no watch event).
    if (canonical(next) === canonical({ ...cur, metadata: { ...cur.metadata, resourceVersion: undefined } })) return [200, cur];
    return [200, this.store.put(sk, next)];
  }

  #target(p: string): Target | undefined {
    let group = '';
    let version = 'v1';
    let segs: string[];
    if (p.startsWith('/api/v1/')) segs = p.slice('/api/v1/'.length).split('/');
    else {
      const m = /^\/apis\/([^/]+)\/([^/]+)\/(.+)$/.exec(p);
      if (!m) return undefined;
      group = m[1] ?? '';
      version = m[2] ?? '';
      segs = (m[3] ?? '').split('/');
    }
    let ns = '';
    if (segs[0] === 'namespaces' && segs.length >= 3) {
      ns = segs[1] ?? '';
      segs = segs.slice(2);
    }
    const res = findResource(group, version, segs[0] ?? '');
    if (!res) return undefined;
    return { res, ns: res.namespaced ? ns : '', name: segs[1], sub: segs[2] };
  }

  #create(t: Target, obj: KObj): [number, unknown] {
    const md = (obj.metadata ??= {});
    if (!md.name && typeof md.generateName === 'string') md.name = md.generateName + randomBytes(3).toString('hex').slice(0, 5);
    if (t.res.namespaced) md.namespace = t.ns || (md.namespace ?? 'default');
    const name = String(md.name ?? '');
    if (!name) return [422, status(422, 'Invalid', 'metadata.name: Required value: name or generateName is required')];
    if (this.store.get(storeKey(t.res), t.res.namespaced ? String(md.namespace) : '', name)) {
      return [409, status(409, 'AlreadyExists', `${t.res.name}${t.res.group ? '.' + t.res.group : ''} "${name}" already exists`, { name, kind: t.res.name })];
    }
    delete md.resourceVersion;
    obj.apiVersion ??= apiVersionOf(t.res);
    obj.kind ??= t.res.kind;
    return [201, this.store.put(storeKey(t.res), obj)];
  }
}
