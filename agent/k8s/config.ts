/** Config schema of `kubernetes` (owned by the node-actions package). */
import { z } from 'zod';

export const KubernetesConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Decorate this Node (labels, condition, taints) from link state. Off without a cluster.'),
    kubeconfig: z.string().optional().describe('Kubeconfig path; default: in-cluster, then $KUBECONFIG, then /etc/rancher/k3s/k3s.yaml.'),
    dryRun: z.boolean().default(false).describe('Log the patches that would be sent; write nothing.'),
  })
  .describe('Kubernetes node actions.');

export type KubernetesConfig = z.infer<typeof KubernetesConfigSchema>;
