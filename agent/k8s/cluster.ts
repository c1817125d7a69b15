/** Finds the cluster to talk to: in-cluster ServiceAccount, kubernetes.kubeconfig, $KUBECONFIG, then k3s's kubeconfig. */
import { existsSync } from 'node:fs';

/** k3s writes its admin kubeconfig here on servers (agents running under systemd on a k3s server use it). */
export const K3S_KUBECONFIG = '/etc/rancher/k3s/k3s.yaml';
/** The token every pod with a ServiceAccount gets. */
export const SA_TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export type ClusterSource = { kind: 'in-cluster'; description: string } | { kind: 'kubeconfig'; path: string; description: string };

export interface FindClusterDeps {
  env: NodeJS.ProcessEnv;
  exists: (path: string) => boolean;
}

/** First match wins; null = no cluster (node actions off). An explicit kubeconfig that is missing is still returned (loading fails loudly). */
export function findCluster(kubeconfig: string | undefined, deps: FindClusterDeps = { env: process.env, exists: existsSync }): ClusterSource | null {
  if (kubeconfig) return { kind: 'kubeconfig', path: kubeconfig, description: `kubeconfig ${kubeconfig} (kubernetes.kubeconfig)` };
  if (deps.env.KUBERNETES_SERVICE_HOST && deps.exists(SA_TOKEN_PATH)) return { kind: 'in-cluster', description: 'in-cluster ServiceAccount' };
  const envPath = deps.env.KUBECONFIG?.split(':').find((p) => p && deps.exists(p));
  if (envPath) return { kind: 'kubeconfig', path: envPath, description: `kubeconfig ${envPath} ($KUBECONFIG)` };
  if (deps.exists(K3S_KUBECONFIG)) return { kind: 'kubeconfig', path: K3S_KUBECONFIG, description: `kubeconfig ${K3S_KUBECONFIG} (k3s)` };
  return null;
}
