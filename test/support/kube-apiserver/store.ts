/** In-memory object store of the test API server: resourceVersions, uids, label/field selectors, watch fan-out. */
import { randomUUID } from 'node:crypto';
import type { Json } from './patch.ts';

export type KObj = { [k: string]: Json } & { metadata?: { [k: string]: Json } };
export type WatchType = 'ADDED' | 'MODIFIED' | 'DELETED';
export interface WatchEvent {
  type: WatchType;
  object: KObj;
  rv: number;
}

/** Object key inside one resource: `namespace/name` (namespace empty for cluster-scoped). */
function key(ns: string, name: string): string {
  return `${ns}/${name}`;
}

/** Parses `a=b,c!=d,e in (x,y),!f,g` into a predicate over labels. */
export function labelSelector(sel: string | null): (labels: Record<string, string>) => boolean {
  if (!sel) return () => true;
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of sel) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) parts.push(cur.trim());
  const preds = parts.map((p): ((l: Record<string, string>) => boolean) => {
    let m = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(p);
    if (m) {
      const [, k = '', op, list = ''] = m;
      const vals = list.split(',').map((s) => s.trim());
      return op === 'in' ? (l) => l[k] !== undefined && vals.includes(l[k]) : (l) => l[k] === undefined || !vals.includes(l[k]);
    }
    m = /^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(p);
    if (m) {
      const [, k = '', op, v] = m;
      return op === '!=' ? (l) => l[k] !== v : (l) => l[k] === v;
    }
    if (p.startsWith('!')) return (l) => l[p.slice(1)] === undefined;
    return (l) => l[p] !== undefined;
  });
  return (labels) => preds.every((f) => f(labels));
}

/** Field selector over dotted paths (`spec.nodeName=n1`, `metadata.name!=x`), like the real server's per-resource fields. */
export function fieldSelector(sel: string | null): (obj: KObj) => boolean {
  if (!sel) return () => true;
  const preds = sel.split(',').map((p) => {
    const m = /^([^!=]+)(==|=|!=)(.*)$/.exec(p.trim());
    if (!m) throw new Error(`invalid field selector "${p}"`);
    const [, path = '', op, want = ''] = m;
    return (o: KObj): boolean => {
      let cur: Json | undefined = o;
      for (const seg of path.split('.')) cur = cur && typeof cur === 'object' && !Array.isArray(cur) ? cur[seg] : undefined;
      const val = cur === undefined || cur === null ? '' : String(cur);
      return op === '!=' ? val !== want : val === want;
    };
  });
  return (o) => preds.every((f) => f(o));
}

/** All objects of all resources, with one global resourceVersion counter as etcd has. */
export class ObjectStore {
  #rv = 100;
  /** Watches from a resourceVersion below this get 410 Gone (etcd compaction; also when history overflowed). */
  #compactedRv = 0;
  readonly #data = new Map<string, Map<string, KObj>>();
  readonly #history: (WatchEvent & { resource: string })[] = [];
  readonly #watchers = new Set<{ resource: string; fn: (e: WatchEvent) => void }>();

  get resourceVersion(): number {
    return this.#rv;
  }

  get compactedRv(): number {
    return this.#compactedRv;
  }

  /** Forgets the change history up to now, as etcd compaction does: older resourceVersions can no longer be watched from. */
  compact(): void {
    this.#history.length = 0;
    this.#compactedRv = this.#rv;
  }

  #bucket(resource: string): Map<string, KObj> {
    let b = this.#data.get(resource);
    if (!b) this.#data.set(resource, (b = new Map()));
    return b;
  }

  get(resource: string, ns: string, name: string): KObj | undefined {
    const o = this.#bucket(resource).get(key(ns, name));
    return o ? structuredClone(o) : undefined;
  }

  list(resource: string, ns: string | null, labels: string | null = null, fields: string | null = null): KObj[] {
    const lp = labelSelector(labels);
    const fp = fieldSelector(fields);
    return [...this.#bucket(resource).values()]
      .filter((o) => ns === null || (o.metadata?.namespace ?? '') === ns)
      .filter((o) => lp((o.metadata?.labels ?? {}) as Record<string, string>) && fp(o))
      .map((o) => structuredClone(o));
  }

  /** Stores `obj` (create or replace), stamping resourceVersion, uid, creationTimestamp and generation. */
  put(resource: string, obj: KObj): KObj {
    const md = (obj.metadata ??= {});
    const ns = String(md.namespace ?? '');
    const name = String(md.name ?? '');
    const b = this.#bucket(resource);
    const prev = b.get(key(ns, name));
    md.resourceVersion = String(++this.#rv);
    md.uid ??= prev?.metadata?.uid ?? randomUUID();
    md.creationTimestamp ??= prev?.metadata?.creationTimestamp ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const stored = structuredClone(obj);
    b.set(key(ns, name), stored);
    this.#emit(resource, prev ? 'MODIFIED' : 'ADDED', stored);
    return structuredClone(stored);
  }

  delete(resource: string, ns: string, name: string): KObj | undefined {
    const b = this.#bucket(resource);
    const prev = b.get(key(ns, name));
    if (!prev) return undefined;
    b.delete(key(ns, name));
    const gone = structuredClone(prev);
    (gone.metadata ??= {}).resourceVersion = String(++this.#rv);
    this.#emit(resource, 'DELETED', gone);
    return gone;
  }

  #emit(resource: string, type: WatchType, object: KObj): void {
    const ev = { type, object: structuredClone(object), rv: this.#rv };
    this.#history.push({ ...ev, resource });
    if (this.#history.length > 10_000) this.#compactedRv = this.#history.shift()?.rv ?? this.#compactedRv;
    for (const w of this.#watchers) if (w.resource === resource) w.fn(ev);
  }

  /** Subscribes to changes of `resource` after `sinceRv` (replays stored history first); returns the unsubscribe. */
  watch(resource: string, sinceRv: number, fn: (e: WatchEvent) => void): () => void {
    for (const e of this.#history) if (e.resource === resource && e.rv > sinceRv) fn({ type: e.type, object: structuredClone(e.object), rv: e.rv });
    const w = { resource, fn };
    this.#watchers.add(w);
    return () => this.#watchers.delete(w);
  }
}
