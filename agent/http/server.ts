/** The status server: /healthz, /readyz, /metrics, /v1/status, the status page, and component routes. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { isIP, type Socket } from 'node:net';
import type { Registry } from 'prom-client';
import type { FastAnswer, FastRequest, HttpRoute } from '../runtime/component.ts';
import { ErrorCode, LwError, codeOf, lwCodeOf, messageOf } from '../base/errors.ts';
import type { Logger } from '../base/log.ts';
import { sendError, sendJson, sendText } from '../base/http-respond.ts';
import { splitHostPort } from '../base/host-port.ts';
import { adoptConnection, FastConnections } from './fast-conn.ts';

/** Slow clients must not hold sockets forever (edge devices have few file descriptors to spare). */
const REQUEST_TIMEOUT_MS = 30_000;
const HEADERS_TIMEOUT_MS = 10_000;
/** Keep-alive idle time: Prometheus scrapes every 15–60 s; 5 s frees idle sockets quickly. */
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** On close, busy connections get this long to finish their answer before they are cut. */
const CLOSE_GRACE_MS = 1_000;

export interface ServerDeps {
  log: Logger;
  metrics: Registry;
  token: string | undefined;
  /** Event-loop responsiveness and process liveness. */
  health(): { ok: boolean; reasons: string[] };
  /** Readiness: empty list = ready. */
  notReadyReasons(): string[];
  /** The /v1/status document. */
  status(): Record<string, unknown>;
  /** HTML of the status page. */
  page(): string;
  /** Routes contributed by components (looked up per request, so late-registered routes work). */
  routes(): readonly HttpRoute[];
  /** Wall-clock ms (the fast path's Date header). */
  nowMs(): number;
  /** Serve plain ingest POSTs without node:http's request objects (server.fastPath; default true). */
  fastPath?: boolean;
}

/** Splits HOST:PORT ([v6]:port) into parts. */
export function parseListen(listen: string): { host: string; port: number } {
  const hp = splitHostPort(listen);
  if (!hp) throw new LwError(ErrorCode.CONFIG_INVALID, `server.listen "${listen}" must be HOST:PORT`);
  return hp;
}

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** Refuses a non-loopback listener without a token (safety rule: anything else requires a token). */
export function assertListenAllowed(listen: string, token: string | undefined): void {
  const { host } = parseListen(listen);
  if (!isLoopback(host) && !token) {
    throw new LwError(
      ErrorCode.LISTEN_INSECURE,
      `server.listen ${listen} is not a loopback address and no server.token is set; set server.token (or server.tokenFile), or listen on 127.0.0.1`,
      { context: { listen } },
    );
  }
}

/** The bytes of the last token checked (one token per server): encoded once, not for every request. */
let tokenBytes: { token: string; bytes: Buffer } | null = null;

/** True when no token is set or `header` is `Bearer <token>` (constant-time compare). */
function bearerMatches(authorization: string | undefined, token: string | undefined): boolean {
  if (!token) return true;
  const header = authorization ?? '';
  const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7).trim() : '');
  if (tokenBytes?.token !== token) tokenBytes = { token, bytes: Buffer.from(token) };
  const want = tokenBytes.bytes;
  return given.length === want.length && timingSafeEqual(given, want);
}

const BUILTIN_PUBLIC = new Set(['/healthz', '/readyz', '/metrics']);

async function dispatch(deps: ServerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://linkward.local');
  const method = req.method ?? 'GET';
  const path = url.pathname;
  if (method === 'GET' && BUILTIN_PUBLIC.has(path)) {
    if (path === '/healthz') {
      const h = deps.health();
      return sendJson(res, h.ok ? 200 : 503, { status: h.ok ? 'ok' : 'unhealthy', reasons: h.reasons });
    }
    if (path === '/readyz') {
      const reasons = deps.notReadyReasons();
      return sendJson(res, reasons.length === 0 ? 200 : 503, { status: reasons.length === 0 ? 'ready' : 'not ready', reasons });
    }
    return sendText(res, 200, await deps.metrics.metrics(), deps.metrics.contentType);
  }
  const route = deps.routes().find((r) => r.method === method && (r.prefix ? path.startsWith(r.path) : path === r.path));
  const builtin = method === 'GET' && (path === '/v1/status' || path === '/');
  if (!route && !builtin) {
    const known = deps.routes().some((r) => (r.prefix ? path.startsWith(r.path) : path === r.path)) || BUILTIN_PUBLIC.has(path);
    return known
      ? sendError(res, 405, 'LW_HTTP_METHOD', `${method} not allowed on ${path}`)
      : sendError(res, 404, 'LW_HTTP_NOT_FOUND', `no such endpoint: ${path}`);
  }
  const needsToken = route ? route.auth === 'token' : true;
  if (needsToken && !bearerMatches(req.headers.authorization, deps.token)) {
    res.setHeader('www-authenticate', 'Bearer realm="linkward"');
    return sendError(res, 401, 'LW_HTTP_UNAUTHORIZED', 'missing or wrong bearer token (Authorization: Bearer <server.token>)');
  }
  if (route) return route.handle(req, res, url);
  if (path === '/') return sendText(res, 200, deps.page(), 'text/html; charset=utf-8');
  return sendJson(res, 200, deps.status());
}

/** The fast path's router: a POST route that has `fast`, its token checked; null leaves the request to node:http. */
function fastServe(deps: ServerDeps, req: FastRequest): Promise<FastAnswer> | null {
  const route = deps.routes().find((r) => r.fast !== undefined && r.method === 'POST' && (r.prefix ? req.target.startsWith(r.path) : req.target === r.path));
  if (route?.fast === undefined) return null;
  if (route.auth === 'token' && !bearerMatches(req.headers.authorization, deps.token)) return null; // node:http answers 401
  return route.fast(req);
}

/**
 * Puts the fast path in front of node:http's own 'connection' listener, which gets every connection the fast path
 * hands off. Returns the set of connections the fast path still serves, or null when node:http's listener is not the
 * single one expected (then every connection stays with node:http).
 */
function installFastPath(server: Server, deps: ServerDeps, log: Logger): FastConnections | null {
  const listeners = server.listeners('connection');
  if (listeners.length !== 1) return null;
  const nodeListener = listeners[0] as (socket: Socket) => void;
  const open = new FastConnections();
  server.removeListener('connection', nodeListener);
  const fastDeps = {
    serve: (req: FastRequest) => fastServe(deps, req),
    handOff: (s: Socket) => nodeListener.call(server, s),
    nowMs: () => deps.nowMs(),
    onError: (e: unknown) => log.error({ err: e, code: codeOf(e), path: 'fast' }, 'request failed'),
  };
  // node:http's requestTimeout has no part here: a request the fast path serves came whole in one read.
  const timeouts = { firstByteMs: HEADERS_TIMEOUT_MS, keepAliveMs: KEEP_ALIVE_TIMEOUT_MS };
  server.on('connection', (socket: Socket) => adoptConnection(socket, fastDeps, open, timeouts));
  return open;
}

/**
 * Listens on `listen` (HOST:PORT); resolves with the bound address ([v6]:port for IPv6), rejects with LW_LISTEN_FAILED
 * naming the config key to change. Shared by the status server and the page listener.
 */
export async function listenOn(server: Server, listen: string, key: string): Promise<string> {
  const { host, port } = parseListen(listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause: NodeJS.ErrnoException) =>
      reject(
        new LwError(
          ErrorCode.LISTEN_FAILED,
          `cannot listen on ${key} ${listen}: ${cause.code ?? cause.message}${cause.code === 'EADDRINUSE' ? ` (another process uses the port; change ${key})` : ''}`,
          { cause },
        ),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  return typeof addr === 'object' && addr ? (addr.family === 'IPv6' ? `[${addr.address}]:${addr.port}` : `${addr.address}:${addr.port}`) : listen;
}

/** Starts the server; resolves once listening (rejects with LW_LISTEN_FAILED). */
export async function startServer(
  listen: string,
  deps: ServerDeps,
): Promise<{ server: Server; address: string; fast: FastConnections | null; close(): Promise<void> }> {
  assertListenAllowed(listen, deps.token);
  const log = deps.log.child({ component: 'http' });
  const server = createServer(
    { requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: HEADERS_TIMEOUT_MS, keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS },
    (req, res) => {
      dispatch(deps, req, res).catch((e: unknown) => {
        log.error({ err: e, code: codeOf(e), url: req.url }, 'request failed');
        if (!res.headersSent) sendError(res, 500, lwCodeOf(e), messageOf(e));
        else res.destroy();
      });
    },
  );
  const fast = deps.fastPath === false ? null : installFastPath(server, deps, log);
  const address = await listenOn(server, listen, 'server.listen');
  return {
    server,
    address,
    fast,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        fast?.close(CLOSE_GRACE_MS);
        setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS).unref();
      }),
  };
}
