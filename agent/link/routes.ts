/** HTTP routes of the link component: public `GET /readyz/link` (200 healthy / 503 with reasons) and `GET /v1/link`. */
import type { HttpRoute } from '../runtime/component.ts';
import type { LinkSnapshot } from '../core/types.ts';
import { checkLink, parseCheckQuery } from '../core/link-check.ts';
import { sendError, sendJson } from '../base/http-respond.ts';

export interface LinkRouteDeps {
  nowMs(): number;
  snapshot(): LinkSnapshot | null;
  /** Extra JSON for /v1/link (damping, recent transitions). */
  details(): Record<string, unknown>;
}

/** The routes; `/readyz/link` is public so kubelet probes and init containers need no token. */
export function linkRoutes(deps: LinkRouteDeps): HttpRoute[] {
  return [
    {
      method: 'GET',
      path: '/readyz/link',
      auth: 'public',
      handle(_req, res, url): void {
        const { query, problems } = parseCheckQuery(url.searchParams);
        if (problems.length > 0)
          return sendError(res, 400, 'LW_LINK_BAD_QUERY', `invalid query: ${problems.join('; ')} (use minDown, minUp, maxRtt, maxLoss, maxAge, uplink)`);
        const result = checkLink(deps.snapshot(), query, deps.nowMs());
        sendJson(res, result.ok ? 200 : 503, { status: result.ok ? 'ok' : 'not ok', ...result, query });
      },
    },
    {
      method: 'GET',
      path: '/v1/link',
      auth: 'token',
      handle(_req, res): void {
        sendJson(res, 200, { snapshot: deps.snapshot(), ...deps.details() });
      },
    },
  ];
}
