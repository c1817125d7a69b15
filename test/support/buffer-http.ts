/** Minimal stand-in for agent/http/server.ts in buffer tests: dispatches HttpRoutes by method + path/prefix, enforces the token. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HttpRoute } from '../../agent/runtime/component.ts';
import { sendError } from '../../agent/base/http-respond.ts';

export interface TestServer {
  base: string;
  server: Server;
  close(): Promise<void>;
}

export async function serveRoutes(routes: HttpRoute[], token?: string): Promise<TestServer> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const route = routes.find((r) => r.method === req.method && (r.prefix ? url.pathname.startsWith(r.path) : url.pathname === r.path));
    if (!route) {
      req.resume();
      return sendError(res, 404, 'LW_HTTP_NOT_FOUND', 'no route');
    }
    if (route.auth === 'token' && token !== undefined && req.headers.authorization !== `Bearer ${token}`) {
      req.resume();
      return sendError(res, 401, 'LW_HTTP_UNAUTHORIZED', 'token required');
    }
    Promise.resolve(route.handle(req, res, url)).catch((e: unknown) => {
      if (!res.headersSent) sendError(res, 500, 'LW_INTERNAL', String(e));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    base: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
