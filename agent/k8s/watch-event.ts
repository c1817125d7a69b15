/** Decodes one watch event of the own Node (both API clients): objects to NodeView, bookmarks, ERROR → LwError (410 → LW_K8S_GONE). */
import type * as K8s from '@kubernetes/client-node';
import type { NodeWatchEvent } from './api.ts';
import { toNodeView } from './convert.ts';
import { mapError } from './map-error.ts';

/** The event, or null for a type linkward ignores; throws the LwError an ERROR event carries. */
export function toNodeWatchEvent(type: string, object: unknown, what: string): NodeWatchEvent | null {
  const o = (object ?? {}) as { code?: unknown; metadata?: { resourceVersion?: unknown } };
  if (type === 'BOOKMARK') return { type, resourceVersion: String(o.metadata?.resourceVersion ?? '') };
  if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') return { type, node: toNodeView(object as K8s.V1Node) };
  // An ERROR carries a metav1.Status; mapError reads its numeric code (410 Expired → GONE) and message.
  if (type === 'ERROR') throw mapError({ code: typeof o.code === 'number' ? o.code : 500, body: object }, what);
  return null;
}
