/** meta.k8s.io/v1 Table rendering (what `kubectl get` asks for), for nodes, pods and a generic fallback. */
import type { KObj } from './store.ts';
import type { ResourceDef } from './resources.ts';

interface Column {
  name: string;
  type: string;
  format?: string;
}

function age(ts: unknown): string {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(String(ts))) / 1000));
  return s < 120 ? `${s}s` : `${Math.round(s / 60)}m`;
}

function nodeStatus(o: KObj): string {
  const conds = (o.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
  const ready = conds.find((c) => c.type === 'Ready');
  let s = ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown';
  if ((o.spec as { unschedulable?: boolean } | undefined)?.unschedulable) s += ',SchedulingDisabled';
  return s;
}

/** Builds the Table kubectl prints; each row carries PartialObjectMetadata like the real server. */
export function toTable(res: ResourceDef, items: KObj[]): object {
  let cols: Column[];
  let cells: (o: KObj) => unknown[];
  if (res.kind === 'Node') {
    cols = [
      { name: 'Name', type: 'string', format: 'name' },
      { name: 'Status', type: 'string' },
      { name: 'Roles', type: 'string' },
      { name: 'Age', type: 'string' },
      { name: 'Version', type: 'string' },
    ];
    cells = (o) => [
      o.metadata?.name,
      nodeStatus(o),
      '<none>',
      age(o.metadata?.creationTimestamp),
      (o.status as { nodeInfo?: { kubeletVersion?: string } } | undefined)?.nodeInfo?.kubeletVersion ?? '',
    ];
  } else if (res.kind === 'Pod') {
    cols = [
      { name: 'Name', type: 'string', format: 'name' },
      { name: 'Ready', type: 'string' },
      { name: 'Status', type: 'string' },
      { name: 'Restarts', type: 'string' },
      { name: 'Age', type: 'string' },
    ];
    cells = (o) => [o.metadata?.name, '1/1', (o.status as { phase?: string } | undefined)?.phase ?? 'Pending', '0', age(o.metadata?.creationTimestamp)];
  } else {
    cols = [
      { name: 'Name', type: 'string', format: 'name' },
      { name: 'Age', type: 'string' },
    ];
    cells = (o) => [o.metadata?.name, age(o.metadata?.creationTimestamp)];
  }
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: {},
    columnDefinitions: cols.map((c) => ({ ...c, format: c.format ?? '', description: '', priority: 0 })),
    rows: items.map((o) => ({ cells: cells(o), object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata } })),
  };
}
