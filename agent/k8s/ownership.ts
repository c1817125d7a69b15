/** The ownership annotation: parse, serialise and compare what linkward applied to a Node. */
import { ANNOTATION_OWNED, type NodeView, type Ownership, type TaintEffect } from './types.ts';

const EFFECTS = new Set<string>(['PreferNoSchedule', 'NoSchedule', 'NoExecute']);

export function emptyOwnership(): Ownership {
  return { labels: [], taints: [], cordon: false };
}

/** Reads the annotation; a missing or corrupt one means "linkward owns nothing" (never remove what we cannot prove is ours). */
export function readOwnership(node: Pick<NodeView, 'annotations'>): Ownership {
  const raw = node.annotations[ANNOTATION_OWNED];
  if (!raw) return emptyOwnership();
  try {
    const v = JSON.parse(raw) as Partial<Ownership>;
    return {
      labels: Array.isArray(v.labels) ? v.labels.filter((x): x is string => typeof x === 'string') : [],
      taints: Array.isArray(v.taints)
        ? v.taints
            .filter((t): t is { key: string; effect: TaintEffect } => typeof t?.key === 'string' && EFFECTS.has(String(t?.effect)))
            .map((t) => ({ key: t.key, effect: t.effect }))
        : [],
      cordon: v.cordon === true,
      ...(v.yielded && typeof v.yielded.state === 'string' && Array.isArray(v.yielded.items)
        ? { yielded: { state: v.yielded.state, items: v.yielded.items.filter((x): x is string => typeof x === 'string') } }
        : {}),
    };
  } catch {
    return emptyOwnership();
  }
}

/** Canonical JSON (sorted) so an unchanged ownership never causes a write. */
export function serializeOwnership(o: Ownership): string {
  const labels = [...new Set(o.labels)].sort();
  const taints = [...o.taints].sort((a, b) => {
    const x = a.key + a.effect,
      y = b.key + b.effect;
    return x < y ? -1 : x > y ? 1 : 0;
  }); // code-unit order: deterministic without loading ICU collation (~2.7 MiB)
  return JSON.stringify({
    labels,
    taints,
    cordon: o.cordon,
    ...(o.yielded?.items.length ? { yielded: { state: o.yielded.state, items: [...o.yielded.items].sort() } } : {}),
  });
}

export function isEmptyOwnership(o: Ownership): boolean {
  return o.labels.length === 0 && o.taints.length === 0 && !o.cordon && !o.yielded?.items.length;
}
