/** Renders the full default configuration as YAML with a comment on every key (from the schema's descriptions). */
import { stringify } from 'yaml';
import type { z } from 'zod';
import { AgentConfigSchema } from './schema.ts';

type AnySchema = z.ZodType;
interface Def {
  type: string;
  innerType?: AnySchema;
  in?: AnySchema;
  shape?: Record<string, AnySchema>;
  element?: AnySchema;
  options?: AnySchema[];
}

const WRAPPERS = new Set(['default', 'prefault', 'optional', 'nullable', 'readonly', 'catch', 'nonoptional']);

function defOf(s: AnySchema): Def {
  return (s as unknown as { def: Def }).def;
}

/** Strips wrappers (default, optional, pipe...) to reach the schema that has the shape. */
function unwrap(s: AnySchema): AnySchema {
  let cur = s;
  for (let i = 0; i < 20; i++) {
    const d = defOf(cur);
    if (WRAPPERS.has(d.type) && d.innerType) cur = d.innerType;
    else if (d.type === 'pipe' && d.in) cur = d.in;
    else break;
  }
  return cur;
}

/** First description found on the schema or its wrappers. */
function descriptionOf(s: AnySchema): string | undefined {
  let cur: AnySchema | undefined = s;
  for (let i = 0; cur && i < 20; i++) {
    if (cur.description) return cur.description;
    const d = defOf(cur);
    cur = WRAPPERS.has(d.type) ? d.innerType : d.type === 'pipe' ? d.in : undefined;
  }
  return undefined;
}

function comment(lines: string[], pad: string, text: string | undefined): void {
  if (text) for (const l of text.split('\n')) lines.push(`${pad}# ${l}`);
}

function scalar(v: unknown): string {
  return stringify(v, { lineWidth: 0 }).trimEnd();
}

/** Each key's default (what the schema gives for a missing key), for objects documented without a value (list items, union forms). */
function keyDefaults(shape: Record<string, AnySchema>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(shape)) {
    const r = child.safeParse(undefined);
    if (r.success && r.data !== undefined) out[key] = r.data;
  }
  return out;
}

function emitObject(lines: string[], schema: AnySchema, value: Record<string, unknown> | undefined, pad: string, commentedOut: boolean): void {
  const shape = defOf(unwrap(schema)).shape ?? {};
  const values = value ?? keyDefaults(shape);
  for (const [key, child] of Object.entries(shape)) {
    comment(lines, pad, descriptionOf(child));
    const v = values[key];
    const inner = unwrap(child);
    const kind = defOf(inner).type;
    const hash = commentedOut ? '# ' : '';
    if (kind === 'object') {
      const sub: string[] = [];
      emitObject(sub, inner, v as Record<string, unknown> | undefined, pad + '  ', commentedOut);
      const allCommented = sub.every((l) => l.trimStart().startsWith('#'));
      // `{}` keeps a live section whose keys are all commented out valid YAML; inside a comment block it would mislead.
      const inComment = pad.trimStart().startsWith('#');
      lines.push(`${pad}${hash}${key}:${allCommented && !inComment ? ' {}' : ''}`, ...sub);
    } else if (kind === 'union') {
      // Documented by its value plus every object/array-of-object form it accepts, as comments.
      if (v === undefined) lines.push(`${pad}# ${key}:`);
      else
        for (const t of stringify({ [key]: v }, { lineWidth: 0 })
          .trimEnd()
          .split('\n'))
          lines.push(`${pad}${hash}${t}`);
      for (const option of defOf(inner).options ?? []) {
        const o = unwrap(option);
        const d = defOf(o);
        if (d.type === 'object') {
          lines.push(`${pad}# Or as an object:`);
          emitObject(lines, o, undefined, pad + '#   ', false);
        } else if (d.type === 'array' && d.element && defOf(unwrap(d.element)).type === 'object') {
          lines.push(`${pad}# As a list, each item:`);
          emitObject(lines, d.element, undefined, pad + '#   ', false);
        }
      }
    } else if (kind === 'array') {
      const element = defOf(inner).element;
      const arr = Array.isArray(v) ? v : [];
      if (arr.length > 0) {
        const text = stringify({ [key]: arr }, { lineWidth: 0 })
          .trimEnd()
          .split('\n');
        for (const t of text) lines.push(`${pad}${hash}${t}`);
      } else {
        lines.push(`${pad}${hash}${key}: []`);
        if (element && defOf(unwrap(element)).type === 'object') {
          lines.push(`${pad}# Each item:`);
          lines.push(`${pad}#   - `);
          emitObject(lines, element, undefined, pad + '#     ', false);
        }
      }
    } else if (v === undefined) {
      lines.push(`${pad}# ${key}:`);
    } else {
      lines.push(`${pad}${hash}${key}: ${scalar(v)}`);
    }
  }
}

/** The full default configuration, valid input for `linkward config validate`. */
export function renderDefaultsYaml(): string {
  const defaults = AgentConfigSchema.parse({}) as Record<string, unknown>;
  const lines = ['# linkward configuration: every key with its default value.', '# Unknown keys are errors. Validate with: linkward config validate FILE', ''];
  const shape = defOf(unwrap(AgentConfigSchema)).shape ?? {};
  for (const [key, child] of Object.entries(shape)) {
    const sub: string[] = [];
    emitObject(sub, { def: { type: 'object', shape: { [key]: child } } } as unknown as AnySchema, defaults, '', false);
    lines.push(...sub, '');
  }
  return lines.join('\n');
}
