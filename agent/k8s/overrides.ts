/** Pure: an admin overruling linkward on its own Node: the pause annotation, and a cordon/taint removed by hand during an episode. */
import type { LinkHealth } from '../core/types.ts';
import { readOwnership } from './ownership.ts';
import type { NodeView, Taint } from './types.ts';

/** Node annotation that stands linkward down: empty or "true" = until removed; an RFC 3339 time = until then; "false" = not paused. */
export const ANNOTATION_PAUSED = 'linkward.io/paused';

/** RFC 3339 date-time (Date.parse alone accepts far more, e.g. "1"). */
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i;

export interface Pause {
  /** When the pause ends by itself (null: until the annotation is removed). */
  untilMs: number | null;
  /** The annotation's value as written. */
  value: string;
  /** The value was neither empty, true/false nor an RFC 3339 time: treated as a pause without end, and said so. */
  invalid: boolean;
}

/** The admin pause in force on `node` at `nowMs`, or null (no annotation, "false", or an expiry in the past). */
export function pauseOf(node: Pick<NodeView, 'annotations'>, nowMs: number): Pause | null {
  const value = node.annotations[ANNOTATION_PAUSED];
  if (value === undefined) return null;
  const v = value.trim();
  if (v.toLowerCase() === 'false') return null;
  if (v === '' || v.toLowerCase() === 'true') return { untilMs: null, value, invalid: false };
  if (RFC3339.test(v)) {
    const until = Date.parse(v);
    if (Number.isFinite(until)) return until > nowMs ? { untilMs: until, value, invalid: false } : null;
  }
  return { untilMs: null, value, invalid: true };
}

/** One line for status and Events. */
export function describePause(p: Pause): string {
  const until = p.untilMs === null ? 'until the annotation is removed' : `until ${new Date(p.untilMs).toISOString()}`;
  const bad = p.invalid ? ` (value "${p.value}" is not true/false or an RFC 3339 time: treated as a pause without end)` : '';
  return `paused by annotation ${ANNOTATION_PAUSED} ${until}${bad}: no taint, cordon or drain; labels, condition and Events continue`;
}

/** The name a yielded decoration has in the ownership annotation (`cordon`, `taint <key>:<effect>`). */
export function taintItem(t: Pick<Taint, 'key' | 'effect'>): string {
  return `taint ${t.key}:${t.effect}`;
}

export interface Yield {
  /** Decorations to leave off for the rest of this link-state episode. */
  items: string[];
  /** Of those, the ones noticed just now (for one Event each time). */
  fresh: string[];
}

/**
 * Decorations someone removed by hand while linkward had them on for this link state: linkward records the removal
 * (ownership annotation, `yielded`) and does not put them back until the link state changes. Detected when the
 * ownership annotation says linkward applied it but the Node no longer carries it.
 */
export function yieldedOf(node: NodeView, state: LinkHealth, want: { cordon: boolean; taint: Taint | null }): Yield {
  const owned = readOwnership(node);
  const carried = owned.yielded?.state === state ? owned.yielded.items : [];
  const items = new Set(carried);
  const fresh: string[] = [];
  if (want.cordon && owned.cordon && !node.unschedulable && !items.has('cordon')) fresh.push('cordon');
  const t = want.taint;
  if (t && owned.taints.some((o) => o.key === t.key && o.effect === t.effect) && !node.taints.some((x) => x.key === t.key && x.effect === t.effect)) {
    if (!items.has(taintItem(t))) fresh.push(taintItem(t));
  }
  for (const f of fresh) items.add(f);
  return { items: [...items].sort(), fresh };
}
