/** Patch semantics of the kube-apiserver: JSON merge patch (RFC 7386), strategic merge patch, JSON patch (RFC 6902). */

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

/** Thrown for a patch the real server rejects; `status` is the HTTP code it answers. */
export class PatchError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

/** RFC 7386: objects merge recursively, null deletes, everything else (arrays too) replaces. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObj(patch)) return clone(patch);
  const out: Obj = isObj(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k] ?? null, v);
  }
  return out;
}

/**
 * Merge keys of the list fields linkward and kubectl patch (from the Go types' `patchMergeKey` tags).
 * Lists not named here are atomic and replaced wholesale, as the real server does: `spec.taints` and
 * `tolerations` carry no patch strategy in core/v1, which is why kubectl taint sends the whole list.
 */
const MERGE_KEYS: Record<string, string> = {
  conditions: 'type',
  addresses: 'type',
  ownerReferences: 'uid',
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  ports: 'containerPort',
};
/** Primitive lists with merge strategy (e.g. finalizers). */
const MERGE_PRIMITIVE_LISTS = new Set(['finalizers']);

/** Strategic merge patch for the directives kubectl sends: `$patch`, `$setElementOrder/`, `$deleteFromPrimitiveList/`, `$retainKeys`. */
export function strategicMergePatch(target: Json, patch: Json): Json {
  if (!isObj(patch)) return clone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _p, ...rest } = patch;
    return clone(rest);
  }
  if (patch.$patch === 'delete') return null;
  const out: Obj = isObj(target) ? clone(target) : {};
  const orders: [string, Json[]][] = [];
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$retainKeys' && Array.isArray(v)) {
      for (const key of Object.keys(out)) if (!v.includes(key) && !(key in patch)) delete out[key];
      continue;
    }
    if (k.startsWith('$setElementOrder/')) {
      if (Array.isArray(v)) orders.push([k.slice('$setElementOrder/'.length), v]);
      continue;
    }
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const cur = out[field];
      if (Array.isArray(cur) && Array.isArray(v)) out[field] = cur.filter((x) => !v.some((d) => d === x));
      continue;
    }
    if (k.startsWith('$')) continue;
    if (v === null) {
      delete out[k];
      continue;
    }
    const mergeKey = MERGE_KEYS[k];
    if (Array.isArray(v) && mergeKey !== undefined) {
      out[k] = mergeList(out[k], v, mergeKey);
    } else if (Array.isArray(v) && MERGE_PRIMITIVE_LISTS.has(k)) {
      const cur = Array.isArray(out[k]) ? (out[k] as Json[]) : [];
      out[k] = [...cur, ...v.filter((x) => !cur.includes(x))];
    } else if (isObj(v)) {
      out[k] = strategicMergePatch(out[k] ?? null, v);
    } else {
      out[k] = clone(v);
    }
  }
  for (const [field, order] of orders) {
    const mergeKey = MERGE_KEYS[field];
    const cur = out[field];
    if (!Array.isArray(cur) || mergeKey === undefined) continue;
    const rank = (e: Json): number => {
      const i = order.findIndex((o) => isObj(o) && isObj(e) && o[mergeKey] === e[mergeKey]);
      return i < 0 ? order.length : i;
    };
    out[field] = [...cur].sort((a, b) => rank(a) - rank(b));
  }
  return out;
}

function mergeList(current: Json | undefined, patch: Json[], mergeKey: string): Json {
  if (patch.some((e) => isObj(e) && e.$patch === 'replace')) {
    return patch.filter((e) => !(isObj(e) && e.$patch === 'replace')).map(clone);
  }
  const out: Json[] = Array.isArray(current) ? current.map(clone) : [];
  for (const e of patch) {
    if (!isObj(e)) {
      out.push(clone(e));
      continue;
    }
    const idx = out.findIndex((c) => isObj(c) && c[mergeKey] === e[mergeKey]);
    if (e.$patch === 'delete') {
      // The real server deletes every element with that merge key.
      for (let i = out.length - 1; i >= 0; i--) {
        const c = out[i];
        if (isObj(c) && c[mergeKey] === e[mergeKey]) out.splice(i, 1);
      }
      continue;
    }
    if (idx >= 0) out[idx] = strategicMergePatch(out[idx] ?? null, e);
    else out.push(strategicMergePatch(null, e));
  }
  return out;
}

/** One RFC 6902 operation. */
interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: Json;
}

function tokens(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(422, `invalid JSON pointer "${pointer}"`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function getAt(doc: Json, path: string): Json | undefined {
  let cur: Json | undefined = doc;
  for (const t of tokens(path)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isObj(cur)) cur = cur[t];
    else return undefined;
  }
  return cur;
}

function parentOf(doc: Json, path: string): { parent: Json; key: string } {
  const ts = tokens(path);
  const key = ts.pop();
  if (key === undefined) throw new PatchError(422, 'cannot operate on the document root');
  const parent = getAt(doc, ts.map((t) => '/' + t.replace(/~/g, '~0').replace(/\//g, '~1')).join(''));
  if (parent === undefined || typeof parent !== 'object' || parent === null) {
    throw new PatchError(422, `doc is missing path: "${path}": missing value`);
  }
  return { parent, key };
}

function addAt(doc: Json, path: string, value: Json): void {
  const { parent, key } = parentOf(doc, path);
  if (Array.isArray(parent)) {
    const i = key === '-' ? parent.length : Number(key);
    if (!Number.isInteger(i) || i < 0 || i > parent.length) throw new PatchError(422, `add operation index out of bounds: ${path}`);
    parent.splice(i, 0, value);
  } else (parent as Obj)[key] = value;
}

function removeAt(doc: Json, path: string): Json {
  const { parent, key } = parentOf(doc, path);
  if (Array.isArray(parent)) {
    const i = Number(key);
    if (!Number.isInteger(i) || i < 0 || i >= parent.length) throw new PatchError(422, `remove operation does not apply: doc is missing path: "${path}"`);
    return parent.splice(i, 1)[0] as Json;
  }
  const o = parent as Obj;
  if (!(key in o)) throw new PatchError(422, `remove operation does not apply: doc is missing path: "${path}"`);
  const v = o[key] as Json;
  delete o[key];
  return v;
}

/** Applies RFC 6902 operations atomically; a failed `test` rejects the whole patch (422, like the real server). */
export function jsonPatch(target: Json, ops: unknown): Json {
  if (!Array.isArray(ops)) throw new PatchError(400, 'json patch must be an array of operations');
  const doc = clone(target);
  for (const raw of ops as JsonPatchOp[]) {
    switch (raw.op) {
      case 'add':
        addAt(doc, raw.path, clone(raw.value ?? null));
        break;
      case 'remove':
        removeAt(doc, raw.path);
        break;
      case 'replace':
        removeAt(doc, raw.path);
        addAt(doc, raw.path, clone(raw.value ?? null));
        break;
      case 'move':
        addAt(doc, raw.path, removeAt(doc, raw.from ?? ''));
        break;
      case 'copy':
        addAt(doc, raw.path, clone(getAt(doc, raw.from ?? '') ?? null));
        break;
      case 'test': {
        const actual = getAt(doc, raw.path);
        if (JSON.stringify(actual) !== JSON.stringify(raw.value)) throw new PatchError(422, `testing value ${raw.path} failed`);
        break;
      }
      default:
        throw new PatchError(400, `unknown json patch op "${String((raw as { op?: unknown }).op)}"`);
    }
  }
  return doc;
}
