/** HTTP endpoints of the route component: GET /v1/route, POST /v1/route/use, POST /v1/route/auto (token auth). */
import { randomUUID } from 'node:crypto';
import type { HttpRoute } from '../runtime/component.ts';
import { readBody, sendError, sendJson } from '../base/http-respond.ts';
import { parseDurationMs } from '../config/route.ts';
import { RouteErrorCode } from './errors.ts';

/** Bodies are one small JSON object. */
const MAX_BODY_BYTES = 4096;
/** A request id is chosen by the CLI (so it can find the outcome even when the POST's answer is lost). */
const REQUEST_ID = /^[A-Za-z0-9_-]{1,64}$/;
/**
 * Beyond confirm timeout + revert grace, a decision may wait for an evaluation already running (one more switch with
 * its confirm) and the daemon's own scheduling delay under load: the CLI is told to wait this much longer.
 */
export const DECISION_SLACK_MS = 20_000;

export interface RouteControl {
  use(uplink: string, forMs: number | null, requestId?: string): Promise<void>;
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
        let body: { uplink?: unknown; for?: unknown; requestId?: unknown };
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
        if (body.requestId !== undefined && (typeof body.requestId !== 'string' || !REQUEST_ID.test(body.requestId)))
          return sendError(res, 400, 'LW_HTTP_BAD_REQUEST', '"requestId" must be 1-64 letters, digits, - or _');
        const requestId = typeof body.requestId === 'string' ? body.requestId : randomUUID();
        // Answer once the override is recorded; the switch (with its confirm) continues in the background and its
        // outcome appears in GET /v1/route `requests` under requestId (the CLI polls it).
        const done = c.use(body.uplink, forMs, requestId);
        void done.catch(() => undefined);
        const t = c.details().timing as { confirmTimeoutMs: number; revertGraceMs: number } | undefined;
        const decideWithinMs = (t ? t.confirmTimeoutMs * 2 + t.revertGraceMs : 0) + DECISION_SLACK_MS;
        sendJson(res, 202, { accepted: true, uplink: body.uplink, forMs, requestId, decideWithinMs });
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
