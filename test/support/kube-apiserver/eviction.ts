/** Eviction (policy/v1) with PodDisruptionBudget checks, as the real API server's eviction subresource decides it. */
import type { KObj, ObjectStore } from './store.ts';
import { labelSelector } from './store.ts';
import { status } from './status.ts';

export interface EvictionVerdict {
  allowed: boolean;
  /** Name of the blocking PDB and its numbers (for the 429 message). */
  pdb?: string;
  message?: string;
}

type Sel = { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };

/** Converts a LabelSelector object to the string form the store understands. */
export function selectorString(sel: Sel | undefined): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(sel?.matchLabels ?? {})) parts.push(`${k}=${v}`);
  for (const e of sel?.matchExpressions ?? []) {
    if (e.operator === 'In') parts.push(`${e.key} in (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

function resolve(v: number | string | undefined, total: number, roundUp: boolean): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return v;
  const pct = Number(String(v).replace('%', ''));
  return roundUp ? Math.ceil((pct * total) / 100) : Math.floor((pct * total) / 100);
}

function healthy(p: KObj): boolean {
  const st = p.status as { phase?: string; conditions?: { type: string; status: string }[] } | undefined;
  if (st?.phase !== 'Running') return false;
  const ready = st.conditions?.find((c) => c.type === 'Ready');
  return ready === undefined || ready.status === 'True';
}

/** Decides whether evicting `pod` keeps every matching PDB satisfied (disruptionsAllowed ≥ 1). */
export function checkEviction(store: ObjectStore, pdbKey: string, pod: KObj): EvictionVerdict {
  const ns = String(pod.metadata?.namespace ?? '');
  // A pod that is not running is not counted as healthy: the real server lets it go regardless of budgets.
  if (!healthy(pod)) return { allowed: true };
  const podLabels = (pod.metadata?.labels ?? {}) as Record<string, string>;
  for (const pdb of store.list(pdbKey, ns)) {
    const spec = (pdb.spec ?? {}) as { selector?: Sel; minAvailable?: number | string; maxUnavailable?: number | string };
    const sel = selectorString(spec.selector);
    if (!sel || !labelSelector(sel)(podLabels)) continue;
    const pods = store.list('pods', ns, sel);
    const expected = pods.length;
    const current = pods.filter(healthy).length;
    const minAvail = resolve(spec.minAvailable, expected, true);
    const maxUnavail = resolve(spec.maxUnavailable, expected, true);
    const desired = minAvail ?? (maxUnavail !== undefined ? expected - maxUnavail : expected);
    const allowed = current - desired;
    if (allowed < 1) {
      return {
        allowed: false,
        pdb: String(pdb.metadata?.name),
        message: `The disruption budget ${String(pdb.metadata?.name)} needs ${desired} healthy pods and has ${current} currently`,
      };
    }
  }
  return { allowed: true };
}

/** POST pods/{name}/eviction: 429 when a PodDisruptionBudget forbids it, else the pod is deleted (201). */
export function evict(store: ObjectStore, ns: string, name: string | undefined, pod: KObj | undefined): [number, unknown] {
  if (!pod) return [404, status(404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' })];
  const v = checkEviction(store, 'poddisruptionbudgets.policy', pod);
  if (!v.allowed) {
    return [
      429,
      status(429, 'TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.", {
        causes: [{ reason: 'DisruptionBudget', message: v.message }],
      }),
    ];
  }
  store.delete('pods', ns, name ?? '');
  return [201, status(201, '', '')];
}
