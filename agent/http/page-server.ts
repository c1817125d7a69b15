/** The opt-in read-only page listener for the site's LAN: GET / (the status page) without a token, nothing else. */
import { createServer, type Server } from 'node:http';
import { codeOf } from '../base/errors.ts';
import type { Logger } from '../base/log.ts';
import { listenOn } from './server.ts';

/** A rendered page is reused this long: a LAN client reloading in a loop costs at most one render per second. */
export const PAGE_CACHE_MS = 1_000;
/** Few people open the page at once; a cap keeps a misbehaving client from taking the agent's file descriptors. */
const MAX_CONNECTIONS = 32;
const REQUEST_TIMEOUT_MS = 10_000;
const HEADERS_TIMEOUT_MS = 5_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;

/**
 * Headers of every answer: the page is self-contained (inline style, at most inline script), never framed, never
 * cached by a proxy, and no referrer leaves the site.
 */
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export interface PageServerDeps {
  log: Logger;
  /** HTML of the status page (the same document the token-protected server serves at /). */
  page(): string;
  /** Monotonic milliseconds (the page cache's clock). */
  monoMs(): number;
}

/** Starts the page listener; resolves once listening (rejects with LW_LISTEN_FAILED). */
export async function startPageServer(listen: string, deps: PageServerDeps): Promise<{ server: Server; address: string; close(): Promise<void> }> {
  const log = deps.log.child({ component: 'page' });
  let cached: { html: string; atMs: number } | undefined;
  const render = (): string => {
    const now = deps.monoMs();
    if (!cached || now - cached.atMs >= PAGE_CACHE_MS) cached = { html: deps.page(), atMs: now };
    return cached.html;
  };
  const server = createServer(
    { requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: HEADERS_TIMEOUT_MS, keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS },
    (req, res) => {
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
      const path = new URL(req.url ?? '/', 'http://linkward.local').pathname;
      const method = req.method ?? 'GET';
      try {
        if (path !== '/') {
          res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found. This address serves only the status page at /.\n');
        } else if (method !== 'GET' && method !== 'HEAD') {
          res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('Read-only: only GET / is served here.\n');
        } else {
          const body = Buffer.from(render(), 'utf8');
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': String(body.length) });
          res.end(method === 'HEAD' ? undefined : body);
        }
      } catch (e) {
        log.error({ err: e, code: codeOf(e) }, 'page request failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('The page could not be rendered.\n');
        else res.destroy();
      }
    },
  );
  server.maxConnections = MAX_CONNECTIONS;
  const address = await listenOn(server, listen, 'server.pageListen');
  return {
    server,
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
