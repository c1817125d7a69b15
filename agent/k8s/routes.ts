/** HTTP routes of the node component: GET /v1/node (desired vs actual), POST /v1/node/release and /v1/node/resume. */
import type { HttpRoute } from '../runtime/component.ts';
import { codeOf, lwCodeOf, messageOf } from '../base/errors.ts';
import { sendError, sendJson } from '../base/http-respond.ts';
import { K8sErrorCode } from './errors.ts';

export interface NodeRouteHandlers {
  view(): Record<string, unknown>;
  /** Removes every linkward decoration and pauses node actions; rejects with LwError (LW_K8S_NO_CLUSTER, API codes). */
  release(): Promise<Record<string, unknown>>;
  resume(): void;
}

export function nodeRoutes(h: NodeRouteHandlers): HttpRoute[] {
  return [
    { method: 'GET', path: '/v1/node', auth: 'token', handle: (_req, res) => sendJson(res, 200, h.view()) },
    {
      method: 'POST',
      path: '/v1/node/release',
      auth: 'token',
      handle: async (_req, res) => {
        try {
          sendJson(res, 200, await h.release());
        } catch (e) {
          sendError(res, codeOf(e) === K8sErrorCode.NO_CLUSTER ? 409 : 503, lwCodeOf(e), messageOf(e));
        }
      },
    },
    {
      method: 'POST',
      path: '/v1/node/resume',
      auth: 'token',
      handle: (_req, res) => {
        h.resume();
        sendJson(res, 200, { paused: false });
      },
    },
  ];
}
