/** The node feature's real adapters (cluster discovery, the API client): built only by the composition root and the CLI. */
import type { AgentContext } from '../runtime/component.ts';
import { isLwError } from '../base/errors.ts';
import type { NodeApi } from './api.ts';
import { findCluster, type ClusterSource } from './cluster.ts';
import type { NodeComponentDeps } from './component.ts';
import { K8sErrorCode } from './errors.ts';

/** Picks the adapter: `lean` (undici) or `client-node`; `auto` falls back to client-node only when the kubeconfig needs it. */
export async function createApiFor(client: 'auto' | 'lean' | 'client-node', source: ClusterSource, timeoutMs: number): Promise<NodeApi> {
  if (client !== 'client-node') {
    const { createLeanApi } = await import('./lean-api.ts');
    try {
      return await createLeanApi(source, timeoutMs);
    } catch (e) {
      if (client === 'lean' || !isLwError(e, K8sErrorCode.LEAN_UNSUPPORTED)) throw e;
    }
  }
  const { createClientNodeApi } = await import('./client-node-api.ts');
  return createClientNodeApi(source, timeoutMs);
}

/** The adapters that talk to the real cluster; the client library is imported only when `createApi` runs (idle RSS). */
export function realNodeDeps(ctx: AgentContext): NodeComponentDeps {
  return {
    createApi: (source, timeoutMs) => createApiFor(ctx.config.kubernetes.client, source, timeoutMs),
    findCluster,
    random: Math.random,
  };
}
