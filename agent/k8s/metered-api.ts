/** NodeApi decorator that counts every request by verb and result (metrics, write budgets in tests and benches). */
import { codeOf } from '../base/errors.ts';
import type { NodeApi } from './api.ts';

export type ApiVerb = 'get' | 'list' | 'watch' | 'patch' | 'create' | 'update' | 'evict';

const VERBS: Record<Exclude<keyof NodeApi, 'source' | 'close' | 'reconnect'>, ApiVerb> = {
  getNode: 'get',
  watchNode: 'watch',
  listOwnNode: 'list',
  listNodes: 'list',
  patchNode: 'patch',
  patchNodeStatus: 'patch',
  createEvent: 'create',
  getLease: 'get',
  createLease: 'create',
  replaceLease: 'update',
  listPodsOnNode: 'list',
  evictPod: 'evict',
  getPod: 'get',
};

/** Every request method of NodeApi (decorators wrap exactly these). */
export const API_METHODS = Object.keys(VERBS) as (keyof typeof VERBS)[];

/** Wraps `api`; `onRequest(verb, result)` is called once per request (result: `ok` or the error code). */
export function meteredApi(api: NodeApi, onRequest: (verb: ApiVerb, result: string) => void): NodeApi {
  const out: Record<string, unknown> = { source: api.source, close: api.close?.bind(api), reconnect: api.reconnect?.bind(api) };
  for (const [method, verb] of Object.entries(VERBS) as [keyof typeof VERBS, ApiVerb][]) {
    const fn = (api[method] as (...a: unknown[]) => Promise<unknown>).bind(api);
    out[method] = async (...args: unknown[]) => {
      try {
        const r = await fn(...args);
        onRequest(verb, 'ok');
        return r;
      } catch (e) {
        onRequest(verb, codeOf(e));
        throw e;
      }
    };
  }
  return out as unknown as NodeApi;
}
