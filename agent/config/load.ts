/** Loads the configuration: finds the file, parses YAML, validates with the schema, reports every error with its path. */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ErrorCode, LwError } from '../base/errors.ts';
import { AgentConfigSchema, DEFAULT_STATE_DIR, type AgentConfig } from './schema.ts';

/** System-wide config path used when neither --config nor LINKWARD_CONFIG is given. */
export const SYSTEM_CONFIG_PATH = '/etc/linkward/config.yaml';

/** One validation problem: dotted path and message (`server.listen: must be HOST:PORT`). */
export interface ConfigProblem {
  path: string;
  message: string;
}

/** Where the config came from (for status output and logs). */
export type ConfigSource = { kind: 'file'; path: string } | { kind: 'defaults' };

export interface LoadedConfig {
  config: AgentConfig;
  source: ConfigSource;
  /** Resolved values that depend on the environment. */
  nodeName: string;
  stateDir: string;
  token: string | undefined;
}

/** Picks the config file: explicit flag, then $LINKWARD_CONFIG, then /etc/linkward/config.yaml if present. */
export function resolveConfigPath(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (explicit) return explicit;
  if (env.LINKWARD_CONFIG) return env.LINKWARD_CONFIG;
  return existsSync(SYSTEM_CONFIG_PATH) ? SYSTEM_CONFIG_PATH : undefined;
}

function pathOf(p: readonly PropertyKey[]): string {
  return p.length === 0
    ? '(root)'
    : p
        .map((k) => (typeof k === 'number' ? `[${k}]` : String(k)))
        .join('.')
        .replace(/\.\[/g, '[');
}

/** True when an alternative of a union failed on the value's type itself (the value is not of that form at all). */
function wrongForm(alt: readonly z.core.$ZodIssue[]): boolean {
  return alt.length > 0 && alt.every((i) => i.path.length === 0 && i.code === 'invalid_type');
}

/**
 * A union that matched no alternative ("Invalid input" from zod says nothing): when the value has the shape of some
 * alternatives, report the problems inside the one with the fewest (the form the user meant); when it has none of the
 * shapes, name every accepted form.
 */
function unionProblems(path: readonly PropertyKey[], alternatives: readonly (readonly z.core.$ZodIssue[])[]): ConfigProblem[] {
  const meant = alternatives.filter((a) => !wrongForm(a)).sort((a, b) => a.length - b.length)[0];
  if (meant) return problemsFromIssues(meant.map((i) => ({ ...i, path: [...path, ...i.path] })));
  const forms = [...new Set(alternatives.flatMap((a) => a.map((i) => (i.code === 'invalid_type' ? String(i.expected) : i.message))))];
  const received = alternatives[0]?.[0]?.message.match(/received (\w+)/)?.[1];
  return [{ path: pathOf(path), message: `must be one of: ${forms.join(', ')}${received ? ` (received ${received})` : ''}` }];
}

/** Turns zod issues into path/message pairs; unknown keys become one problem per key; unions name their forms. */
export function problemsFromIssues(issues: readonly z.core.$ZodIssue[]): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        out.push({ path: pathOf([...issue.path, key]), message: 'unknown key (check the spelling; `linkward config defaults` lists every key)' });
    } else if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      out.push(...unionProblems(issue.path, issue.errors));
    } else {
      out.push({ path: pathOf(issue.path), message: issue.message });
    }
  }
  return out;
}

/** Parses YAML text into a plain value; syntax errors become problems with line numbers. */
export function parseYaml(text: string): { value: unknown; problems: ConfigProblem[] } {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      value: undefined,
      problems: doc.errors.map((e) => ({ path: `(yaml line ${e.linePos?.[0]?.line ?? '?'})`, message: e.message.split('\n')[0] ?? e.message })),
    };
  }
  return { value: doc.toJS() ?? {}, problems: [] };
}

/** Validates a parsed value; returns the config or every problem at once. */
export function validateConfig(value: unknown): { ok: true; config: AgentConfig } | { ok: false; problems: ConfigProblem[] } {
  const r = AgentConfigSchema.safeParse(value ?? {});
  if (r.success) return { ok: true, config: r.data };
  return { ok: false, problems: problemsFromIssues(r.error.issues) };
}

/** Reads and validates a config file (or the defaults when `path` is undefined); throws LW_CONFIG_* errors. */
export function loadConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  let value: unknown = {};
  let source: ConfigSource = { kind: 'defaults' };
  if (path !== undefined) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (cause) {
      throw new LwError(ErrorCode.CONFIG_UNREADABLE, `cannot read config file ${path}: ${(cause as Error).message}`, { cause, context: { path } });
    }
    const parsed = parseYaml(text);
    if (parsed.problems.length > 0) throw invalid(path, parsed.problems);
    value = parsed.value;
    source = { kind: 'file', path: resolve(path) };
  }
  const v = validateConfig(value);
  if (v.ok === false) throw invalid(path ?? '(defaults)', v.problems);
  const config = v.config;
  let token = config.server.token;
  if (config.server.tokenFile) {
    try {
      token = readFileSync(config.server.tokenFile, 'utf8').trim();
    } catch (cause) {
      throw new LwError(ErrorCode.CONFIG_UNREADABLE, `cannot read server.tokenFile ${config.server.tokenFile}: ${(cause as Error).message}`, { cause });
    }
    if (token.length < 16) throw invalid(path ?? '(defaults)', [{ path: 'server.tokenFile', message: 'token in file must be at least 16 characters' }]);
  }
  return {
    config,
    source,
    nodeName: config.node.name ?? env.NODE_NAME ?? hostname(),
    stateDir: resolve(config.state.dir ?? env.STATE_DIRECTORY?.split(':')[0] ?? DEFAULT_STATE_DIR),
    token,
  };
}

function invalid(where: string, problems: ConfigProblem[]): LwError {
  const lines = problems.map((p) => `  ${p.path}: ${p.message}`).join('\n');
  return new LwError(ErrorCode.CONFIG_INVALID, `invalid configuration in ${where}:\n${lines}`, { context: { problems } });
}
