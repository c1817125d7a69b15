/** The agent's real HTTP server (agent/http/server.ts) serving a test's component routes, healthy and ready, no page. */
import type { Registry } from 'prom-client';
import type { Logger } from '../../agent/base/log.ts';
import type { HttpRoute } from '../../agent/runtime/component.ts';
import { startServer } from '../../agent/http/server.ts';

export interface RouteServerOptions {
  log: Logger;
  metrics: Registry;
  routes(): readonly HttpRoute[];
  token?: string;
  listen?: string;
  fastPath?: boolean;
  notReadyReasons?(): string[];
  status?(): Record<string, unknown>;
}

/** Starts it on `listen` (default an ephemeral loopback port). */
export function startRouteServer(o: RouteServerOptions): ReturnType<typeof startServer> {
  return startServer(o.listen ?? '127.0.0.1:0', {
    log: o.log,
    metrics: o.metrics,
    token: o.token,
    health: () => ({ ok: true, reasons: [] }),
    notReadyReasons: o.notReadyReasons ?? (() => []),
    status: o.status ?? (() => ({})),
    page: () => '',
    routes: o.routes,
    nowMs: () => Date.now(),
    fastPath: o.fastPath,
  });
}
