/** Node actions from the node component's status: a fingerprint of the applied decorations and the change between two, in words (pure). */

/** What linkward has applied to its Node, reduced to what staff and support care about. */
export interface Applied {
  labels: Record<string, string>;
  /** "key=value:Effect" */
  taints: string[];
  cordoned: boolean;
  /** "True/Reason" of linkward's NodeCondition, null when it is not set. */
  condition: string | null;
}

/**
 * The applied decorations from the node component's status details (`actual`, see agent/k8s/summary.ts), or null
 * when they are unknown (component off, no read yet): unknown is never "nothing applied", so it records no action.
 */
export function appliedFrom(details: unknown): Applied | null {
  const actual = (details as { actual?: unknown } | null | undefined)?.actual as Record<string, unknown> | null | undefined;
  if (!actual || typeof actual !== 'object') return null;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries((actual.labels ?? {}) as Record<string, unknown>)) labels[k] = String(v);
  const taints = (Array.isArray(actual.taints) ? actual.taints : [])
    .map((t: { key?: unknown; value?: unknown; effect?: unknown }) => `${String(t.key)}${t.value ? `=${String(t.value)}` : ''}:${String(t.effect)}`)
    .sort();
  const c = actual.condition as { status?: unknown; reason?: unknown } | null | undefined;
  return {
    labels: sortKeys(labels),
    taints,
    cordoned: actual.cordoned === true,
    condition: c ? `${String(c.status)}${c.reason ? `/${String(c.reason)}` : ''}` : null,
  };
}

function sortKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))); // code-unit order: no ICU collation
}

export function fingerprint(a: Applied): string {
  return JSON.stringify(a);
}

export function parseFingerprint(text: string | null): Applied | null {
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as Partial<Applied> | null;
    // every field checked: one missing (a damaged row) made each recorder tick throw, which also stopped its buffer
    // sampling and pruning
    if (!v || typeof v !== 'object' || typeof v.labels !== 'object' || v.labels === null || Array.isArray(v.labels)) return null;
    if (!Array.isArray(v.taints) || typeof v.cordoned !== 'boolean' || (v.condition !== null && typeof v.condition !== 'string')) return null;
    return { labels: v.labels, taints: v.taints.map(String), cordoned: v.cordoned, condition: v.condition };
  } catch {
    return null;
  }
}

/** True when nothing linkward-owned is applied (a fresh node: not worth an entry on first sight). */
export function isBare(a: Applied): boolean {
  return Object.keys(a.labels).length === 0 && a.taints.length === 0 && !a.cordoned && a.condition === null;
}

/** "cordoned; taint x:NoSchedule added; label linkward.io/link: healthy → down" — empty when nothing changed. */
export function describeChange(before: Applied | null, after: Applied): string {
  const b = before ?? { labels: {}, taints: [], cordoned: false, condition: null };
  const parts: string[] = [];
  if (b.cordoned !== after.cordoned) parts.push(after.cordoned ? 'cordoned' : 'uncordoned');
  for (const t of after.taints) if (!b.taints.includes(t)) parts.push(`taint ${t} added`);
  for (const t of b.taints) if (!after.taints.includes(t)) parts.push(`taint ${t} removed`);
  for (const [k, v] of Object.entries(after.labels))
    if (b.labels[k] !== v) parts.push(b.labels[k] === undefined ? `label ${k}=${v}` : `label ${k}: ${b.labels[k]} → ${v}`);
  for (const k of Object.keys(b.labels)) if (after.labels[k] === undefined) parts.push(`label ${k} removed`);
  if (b.condition !== after.condition) parts.push(`condition ${b.condition ?? 'unset'} → ${after.condition ?? 'unset'}`);
  return parts.join('; ');
}
