/** The error registry is closed and complete: every code is raised somewhere, every code named anywhere is registered, the doc table is generated. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES, isLwCode } from '../../../agent/base/error-codes.ts';
import { Exit, exitForError } from '../../../agent/cli/exit-codes.ts';
import { LwError } from '../../../agent/base/errors.ts';
import { OPERATIONS_MD, renderErrorTable, withErrorTable } from '../../../scripts/gen-error-table.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const REGISTRY_FILE = 'agent/base/error-codes.ts';
/** Where codes are raised: the shipped source. */
const SOURCE_DIRS = ['agent', 'probes', 'buffer'];
/** Where a code may be named (raised, documented, scripted): everything a maintainer or an operator reads. */
const NAMING_DIRS = [...SOURCE_DIRS, 'scripts', 'docs', 'systemd', 'deploy', 'packaging', 'test'];
/** This file names codes that do not exist, on purpose. */
const THIS_FILE = 'test/unit/base/error-registry.test.ts';
const SOURCE_EXT = /\.(ts|mjs|js)$/;
const NAMING_EXT = /\.(ts|mjs|js|sh|md|ya?ml|service|conf)$/;

/**
 * Codes raised only by a computation the source text does not show (a code built at run time, or one taken from
 * data). Each needs a reason; the test fails when one of them is in fact raised literally, so the list stays true.
 */
const RAISED_DYNAMICALLY: Record<string, string> = {};

function files(dir: string, ext: RegExp): string[] {
  let names: string[];
  try {
    names = readdirSync(join(ROOT, dir));
  } catch {
    return [];
  }
  return names.flatMap((n) => {
    const rel = join(dir, n);
    if (n === 'node_modules' || n === 'build' || n.startsWith('.')) return [];
    return statSync(join(ROOT, rel)).isDirectory() ? files(rel, ext) : ext.test(n) ? [rel] : [];
  });
}

const read = (rel: string): string => readFileSync(join(ROOT, rel), 'utf8');

/** Short-name catalogs (`export const X = { KEY: 'LW_…', … } as const`): X.KEY → code, and the lines that define them. */
function catalogs(sources: string[]): { refs: Map<string, string>; definitions: Set<string> } {
  const refs = new Map<string, string>();
  const definitions = new Set<string>();
  for (const f of sources) {
    const text = read(f);
    for (const block of text.matchAll(/export const (\w+) = \{([^}]*)\}\s*as const/g)) {
      for (const entry of (block[2] as string).matchAll(/^\s*([A-Z0-9_]+): '(LW_[A-Z0-9_]+)',/gm)) {
        refs.set(`${block[1]}.${entry[1]}`, entry[2] as string);
        definitions.add(`${f}\0${(entry[0] as string).trim()}`);
      }
    }
  }
  return { refs, definitions };
}

/** Codes the source raises, answers with or compares against: quoted literals outside catalogs, and catalog references. */
function raisedCodes(): Map<string, string[]> {
  const sources = SOURCE_DIRS.flatMap((d) => files(d, SOURCE_EXT)).filter((f) => f !== REGISTRY_FILE);
  const { refs, definitions } = catalogs(sources);
  const where = new Map<string, string[]>();
  const add = (code: string, f: string): void => void where.set(code, [...(where.get(code) ?? []), f]);
  for (const f of sources) {
    for (const line of read(f).split('\n')) {
      if (definitions.has(`${f}\0${line.trim()}`)) continue;
      for (const m of line.matchAll(/['"](LW_[A-Z0-9_]+)['"]/g)) add(m[1] as string, f);
      for (const m of line.matchAll(/\b([A-Z]\w*\.[A-Z0-9_]+)\b/g)) {
        const code = refs.get(m[1] as string);
        if (code) add(code, f);
      }
    }
  }
  return where;
}

/** Every `LW_…` code named anywhere (code, comments, docs, scripts), minus identifiers that merely start with LW_. */
function namedCodes(): { codes: Map<string, string[]>; prefixes: Map<string, string[]> } {
  const all = NAMING_DIRS.flatMap((d) => files(d, NAMING_EXT)).filter((f) => f !== REGISTRY_FILE && f !== THIS_FILE);
  const identifiers = new Set(
    all.flatMap((f) => [...read(f).matchAll(/\b(?:const|let|var|function|class|type|interface)\s+(LW_\w+)/g)].map((m) => m[1] as string)),
  );
  const codes = new Map<string, string[]>();
  const prefixes = new Map<string, string[]>();
  for (const f of all) {
    for (const m of read(f).matchAll(/\bLW_[A-Z0-9_]*/g)) {
      const token = m[0];
      if (identifiers.has(token)) continue;
      const target = token.endsWith('_') ? prefixes : codes; // `LW_CONFIG_*`, `LW_${string}`: families, not codes
      target.set(token, [...(target.get(token) ?? []), f]);
    }
  }
  return { codes, prefixes };
}

test('docs/OPERATIONS.md carries the generated troubleshooting table (run node scripts/gen-error-table.ts after changing agent/base/error-codes.ts)', () => {
  const doc = readFileSync(OPERATIONS_MD, 'utf8');
  assert.equal(doc, withErrorTable(doc));
  assert.equal(renderErrorTable().split('\n').length, Object.keys(ERROR_CODES).length + 2, 'one row per code plus the header');
});

test('every registered code is raised somewhere in the source (or listed as raised dynamically, with a reason)', () => {
  const raised = raisedCodes();
  const never = Object.keys(ERROR_CODES).filter((c) => !raised.has(c) && !(c in RAISED_DYNAMICALLY));
  assert.deepEqual(never, [], 'registered but never raised: raise them where they belong or remove them from agent/base/error-codes.ts');
  const stale = Object.keys(RAISED_DYNAMICALLY).filter((c) => raised.has(c) || !isLwCode(c));
  assert.deepEqual(stale, [], 'RAISED_DYNAMICALLY lists codes that are raised literally or not registered');
});

test('every code raised, compared or named anywhere (source, tests, scripts, docs, deploy) is registered', () => {
  const { codes, prefixes } = namedCodes();
  const unknown = [...codes].filter(([c]) => !isLwCode(c)).map(([c, where]) => `${c} (${[...new Set(where)].join(', ')})`);
  assert.deepEqual(unknown, []);
  const emptyFamilies = [...prefixes]
    .filter(([p]) => !Object.keys(ERROR_CODES).some((c) => c.startsWith(p)))
    .map(([p, where]) => `${p}* (${[...new Set(where)].join(', ')})`);
  assert.deepEqual(emptyFamilies, [], 'a family of codes (LW_X_*) named where no registered code has that prefix');
  assert.ok(codes.size >= Object.keys(ERROR_CODES).length / 2, `the scan found the named codes (${codes.size}); is the search broken?`);
});

test('the scan sees the ways code is raised (a catalog reference, a literal) and ignores catalog definitions', () => {
  const raised = raisedCodes();
  // raised only through its catalog name (K8sErrorCode.CONFLICT in the API error mapping)
  assert.ok(
    raised.get('LW_K8S_CONFLICT')?.some((f) => f.startsWith('agent/k8s/') && f !== 'agent/k8s/errors.ts'),
    JSON.stringify(raised.get('LW_K8S_CONFLICT')),
  );
  // raised only as a literal (agent/base/exec.ts)
  assert.ok(raised.get('LW_COMMAND_NOT_FOUND')?.includes('agent/base/exec.ts'));
  // a catalog's own definition line is not a use
  assert.ok(!raised.get('LW_K8S_CONFLICT')?.includes('agent/k8s/errors.ts'));
  assert.ok([...raised.keys()].every(isLwCode), `raised but unregistered: ${[...raised.keys()].filter((c) => !isLwCode(c)).join(', ')}`);
});

test('registry entries are complete and the exit codes come from it', () => {
  for (const [code, info] of Object.entries(ERROR_CODES)) {
    assert.match(code, /^LW_[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/, code);
    assert.ok(info.meaning.length >= 8 && info.action.length >= 4, `${code}: meaning and action are written out`);
    assert.ok(!/\n/.test(info.meaning + info.action), `${code}: one line each`);
  }
  assert.equal(exitForError(new LwError('LW_CONFIG_INVALID', 'x')), Exit.CONFIG_INVALID);
  assert.equal(exitForError(new LwError('LW_CONFIG_UNREADABLE', 'x')), Exit.CONFIG_INVALID);
  assert.equal(exitForError(new LwError('LW_DAEMON_UNREACHABLE', 'x')), Exit.UNREACHABLE);
  assert.equal(exitForError(new LwError('LW_DAEMON_BAD_RESPONSE', 'x')), Exit.UNREACHABLE);
  assert.equal(exitForError(new LwError('LW_PROBE_UNKNOWN_UPLINK', 'x')), Exit.DOWN);
  assert.equal(exitForError(new LwError('LW_PROBE_NO_URL', 'x')), Exit.DOWN);
  assert.equal(exitForError(new LwError('LW_K8S_FORBIDDEN', 'x')), Exit.FAILURE);
  assert.equal(exitForError(new Error('plain')), Exit.FAILURE);
  assert.ok(!isLwCode('LW_NO_SUCH_CODE') && !isLwCode('toString') && isLwCode('LW_INTERNAL'));
});
