/** HTTP endpoints of the route component: GET /v1/route, POST /v1/route/use, POST /v1/route/auto (token auth). */
import type { HttpRoute } from '../component.ts';
import { readBody, sendError, sendJson } from '../http/respond.ts';
import { parseDurationMs } from './config.ts';
import { RouteErrorCode } from './errors.ts';

/** Bodies are one small JSON object. */
const MAX_BODY_BYTES = 4096;

export interface RouteControl {
  use(uplink: string, forMs: number | null): Promise<void>;
  auto(): Promise<void>;
  details(): Record<string, unknown>;
}

export function routeHttpRoutes(c: RouteControl): HttpRoute[] {
  return [
    { method: 'GET', path: '/v1/route', auth: 'token', handle: (_req, res) => sendJson(res, 200, c.details()) },
    {
      method: 'POST',
      path: '/v1/route/use',
      auth: 'token',
      async handle(req, res) {
        let body: { uplink?: unknown; for?: unknown };
        try {
          body = JSON.parse((await readBody(req, MAX_BODY_BYTES)).toString('utf8') || '{}') as typeof body;
        } catch {
          return sendError(res, 400, 'LW_HTTP_BAD_REQUEST', 'body must be JSON: {"uplink": "NAME", "for": "30m"}');
        }
        const uplinks = (c.details().uplinks as { name: string }[]).map((u) => u.name);
        if (typeof body.uplink !== 'string' || !uplinks.includes(body.uplink)) {
          return sendError(res, 404, RouteErrorCode.UNKNOWN_UPLINK, `unknown uplink ${JSON.stringify(body.uplink)}; configured: ${uplinks.join(', ')}`);
        }
        const forMs = body.for === undefined || body.for === null ? null : parseDurationMs(body.for as string | number);
        if (forMs !== null && !(forMs > 0)) return sendError(res, 400, 'LW_HTTP_BAD_REQUEST', '"for" must be a duration like 30m, 2h or a number of ms');
        // Answer once the override is recorded; the switch (with its confirm) continues in the background.
        const done = c.use(body.uplink, forMs);
        void done.catch(() => undefined);
        sendJson(res, 202, { accepted: true, uplink: body.uplink, forMs });
      },
    },
    {
      method: 'POST',
      path: '/v1/route/auto',
      auth: 'token',
      async handle(req, res) {
        await readBody(req, MAX_BODY_BYTES).catch(() => Buffer.alloc(0));
        void c.auto().catch(() => undefined);
        sendJson(res, 202, { accepted: true, mode: 'auto' });
      },
    },
  ];
}
