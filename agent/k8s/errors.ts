/** Error codes of the node-actions package. */
import type { LwCode } from '../base/errors.ts';

export const K8sErrorCode = {
  /** resourceVersion precondition failed: re-read and retry. */
  CONFLICT: 'LW_K8S_CONFLICT',
  NOT_FOUND: 'LW_K8S_NOT_FOUND',
  /** 429: eviction blocked by a PodDisruptionBudget, or API throttling. */
  TOO_MANY_REQUESTS: 'LW_K8S_TOO_MANY_REQUESTS',
  /** 401/403: RBAC or admission policy refused. */
  FORBIDDEN: 'LW_K8S_FORBIDDEN',
  /** Connection refused/reset, 5xx: the API is unreachable or failing. */
  UNAVAILABLE: 'LW_K8S_UNAVAILABLE',
  TIMEOUT: 'LW_K8S_TIMEOUT',
  /** 410 Gone: a watch's resourceVersion is older than the server's history (compaction): read the object again. */
  GONE: 'LW_K8S_GONE',
  /** Another 4xx the agent cannot fix by retrying. */
  REJECTED: 'LW_K8S_REJECTED',
  /** No kubeconfig, no in-cluster ServiceAccount: node actions are off. */
  NO_CLUSTER: 'LW_K8S_NO_CLUSTER',
  /** The kubeconfig exists but could not be loaded. */
  CONFIG_INVALID: 'LW_K8S_CONFIG_INVALID',
  /** The kubeconfig needs something only @kubernetes/client-node does (exec plugin, auth-provider, proxy). */
  LEAN_UNSUPPORTED: 'LW_K8S_LEAN_UNSUPPORTED',
} as const satisfies Record<string, LwCode>;

export type K8sErrorCodeValue = (typeof K8sErrorCode)[keyof typeof K8sErrorCode];
