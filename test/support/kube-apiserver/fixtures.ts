/** Test fixtures for the test API server: nodes, pods (incl. DaemonSet and mirror pods, volumes), PDBs. */
import type { KubeApiServer } from './server.ts';
import type { KObj } from './store.ts';
import type { Json } from './patch.ts';

/** A Ready node with the given name and labels. */
export function seedNode(api: KubeApiServer, name: string, labels: Record<string, string> = {}): KObj {
  return api.seed('nodes', {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
    spec: {},
    status: {
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'KubeletReady',
          message: 'kubelet is posting ready status',
          lastHeartbeatTime: new Date().toISOString(),
          lastTransitionTime: new Date().toISOString(),
        },
      ],
      nodeInfo: { kubeletVersion: 'v1.32.0+k3s1' },
    },
  });
}

export interface PodOpts {
  labels?: Record<string, string>;
  /** Owner kind (ReplicaSet, DaemonSet) or undefined for a bare pod. */
  owner?: { kind: string; name: string };
  mirror?: boolean;
  phase?: string;
  /** spec.volumes as posted, e.g. `[{ name: 'cache', emptyDir: {} }]` (each volume is mounted by the container). */
  volumes?: { [k: string]: Json }[];
}

/** A running pod bound to `node`. */
export function seedPod(api: KubeApiServer, ns: string, name: string, node: string, o: PodOpts = {}): KObj {
  const metadata: { [k: string]: Json } = { name, namespace: ns, labels: o.labels ?? {} };
  if (o.owner) metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: o.owner.kind, name: o.owner.name, uid: `uid-${o.owner.name}`, controller: true }];
  if (o.mirror) metadata.annotations = { 'kubernetes.io/config.mirror': 'abc' };
  const container: { [k: string]: Json } = { name: 'c', image: 'busybox' };
  const spec: { [k: string]: Json } = { nodeName: node, containers: [container] };
  if (o.volumes) {
    spec.volumes = o.volumes;
    container.volumeMounts = o.volumes.map((v) => ({ name: String(v.name), mountPath: `/mnt/${String(v.name)}` }));
  }
  return api.seed('pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata,
    spec,
    status: { phase: o.phase ?? 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  });
}

/** A DaemonSet object (kubectl drain looks its pods' owner up). */
export function seedDaemonSet(api: KubeApiServer, ns: string, name: string): KObj {
  return api.seed('daemonsets.apps', {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace: ns, uid: `uid-${name}` },
    spec: { selector: { matchLabels: { app: name } } },
  });
}

/** A PodDisruptionBudget with minAvailable over matchLabels. */
export function seedPdb(api: KubeApiServer, ns: string, name: string, matchLabels: Record<string, string>, minAvailable: number | string): KObj {
  return api.seed('poddisruptionbudgets.policy', {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name, namespace: ns },
    spec: { selector: { matchLabels }, minAvailable },
  });
}
