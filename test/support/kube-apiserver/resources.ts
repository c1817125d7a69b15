/** Resource table and discovery documents of the test API server (what kubectl and client-node look up). */

export interface ResourceDef {
  group: string;
  version: string;
  /** Plural resource name as in URLs. */
  name: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  /** Subresources served: `status` (generic) and `eviction` (pods only). */
  sub?: string[];
}

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export const RESOURCES: readonly ResourceDef[] = [
  { group: '', version: 'v1', name: 'nodes', singular: 'node', kind: 'Node', namespaced: false, shortNames: ['no'], sub: ['status'] },
  { group: '', version: 'v1', name: 'namespaces', singular: 'namespace', kind: 'Namespace', namespaced: false, shortNames: ['ns'], sub: ['status'] },
  { group: '', version: 'v1', name: 'pods', singular: 'pod', kind: 'Pod', namespaced: true, shortNames: ['po'], sub: ['status', 'eviction'] },
  { group: '', version: 'v1', name: 'events', singular: 'event', kind: 'Event', namespaced: true, shortNames: ['ev'] },
  { group: 'coordination.k8s.io', version: 'v1', name: 'leases', singular: 'lease', kind: 'Lease', namespaced: true },
  { group: 'events.k8s.io', version: 'v1', name: 'events', singular: 'event', kind: 'Event', namespaced: true, shortNames: ['ev'] },
  {
    group: 'policy',
    version: 'v1',
    name: 'poddisruptionbudgets',
    singular: 'poddisruptionbudget',
    kind: 'PodDisruptionBudget',
    namespaced: true,
    shortNames: ['pdb'],
    sub: ['status'],
  },
  { group: 'apps', version: 'v1', name: 'daemonsets', singular: 'daemonset', kind: 'DaemonSet', namespaced: true, shortNames: ['ds'], sub: ['status'] },
  { group: 'apps', version: 'v1', name: 'replicasets', singular: 'replicaset', kind: 'ReplicaSet', namespaced: true, shortNames: ['rs'], sub: ['status'] },
];

/** Store key of a resource (group-qualified so core and events.k8s.io events stay apart). */
export function storeKey(r: ResourceDef): string {
  return r.group ? `${r.name}.${r.group}` : r.name;
}

export function findResource(group: string, version: string, name: string): ResourceDef | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.name === name);
}

export function apiVersionOf(r: ResourceDef): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** GET /api */
export function coreVersions(): object {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:6443' }] };
}

function groups(): string[] {
  return [...new Set(RESOURCES.filter((r) => r.group).map((r) => r.group))];
}

function groupDoc(g: string): object {
  const versions = [...new Set(RESOURCES.filter((r) => r.group === g).map((r) => r.version))].map((v) => ({ groupVersion: `${g}/${v}`, version: v }));
  return { kind: 'APIGroup', apiVersion: 'v1', name: g, versions, preferredVersion: versions[0] };
}

/** GET /apis */
export function groupList(): object {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups().map(groupDoc) };
}

/** GET /apis/{group} */
export function groupInfo(g: string): object | undefined {
  return groups().includes(g) ? groupDoc(g) : undefined;
}

/** GET /api/v1 or /apis/{group}/{version}: the resource list, with `pods/eviction` in group policy/v1 as kubectl drain requires. */
export function resourceList(group: string, version: string): object | undefined {
  const rs = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (rs.length === 0) return undefined;
  const resources: object[] = [];
  for (const r of rs) {
    resources.push({
      name: r.name,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: VERBS,
      ...(r.shortNames ? { shortNames: r.shortNames } : {}),
    });
    for (const s of r.sub ?? []) {
      if (s === 'eviction')
        resources.push({ name: `${r.name}/eviction`, singularName: '', namespaced: true, group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] });
      else resources.push({ name: `${r.name}/${s}`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'patch', 'update'] });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}
