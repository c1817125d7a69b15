/** The import directions of docs/ARCHITECTURE.md, checked from the source: lower layers never import higher ones, features never import each other. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Layers from the bottom up; a module may import its own layer's modules (same feature) and any lower layer. */
const LAYERS = ['base', 'core', 'config', 'runtime', 'feature', 'surface', 'root'] as const;
type Layer = (typeof LAYERS)[number];

/** Feature packages: each one is a layer of its own width; none imports another. */
const FEATURES = ['agent/link', 'agent/route', 'agent/k8s', 'agent/history', 'agent/state', 'agent/systemd', 'probes', 'buffer'];

interface Place {
  layer: Layer;
  /** The feature or surface package, so that two packages of one layer can be told apart. */
  unit: string;
}

export function placeOf(rel: string): Place {
  const parts = rel.split('/');
  if (parts[0] === 'probes' || parts[0] === 'buffer') return { layer: 'feature', unit: parts[0] };
  const dir = parts.length > 2 ? `agent/${parts[1]}` : 'agent';
  if (dir === 'agent/base') return { layer: 'base', unit: dir };
  if (dir === 'agent/core') return { layer: 'core', unit: dir };
  if (dir === 'agent/config') return { layer: 'config', unit: dir };
  if (dir === 'agent/runtime') return { layer: 'runtime', unit: dir };
  if (FEATURES.includes(dir)) return { layer: 'feature', unit: dir };
  if (dir === 'agent/http' || dir === 'agent/cli') return { layer: 'surface', unit: dir };
  if (dir === 'agent') return { layer: 'root', unit: dir };
  throw new Error(`${rel}: no layer for ${dir}; add the directory to test/unit/architecture/layers.test.ts and docs/ARCHITECTURE.md`);
}

/** Whether `from` may import `to`: downwards always; sideways only inside one package (surfaces may share). */
export function allowed(from: Place, to: Place): boolean {
  const a = LAYERS.indexOf(from.layer);
  const b = LAYERS.indexOf(to.layer);
  if (b < a) return true;
  if (b > a) return false;
  if (from.layer === 'feature') return from.unit === to.unit;
  return true;
}

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === 'native' || name === 'node_modules') continue;
    if (statSync(path).isDirectory()) sources(path, out);
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** Every relative import of a file: static, re-exports, type-only and dynamic `import()` all count. */
function importsOf(text: string, relativeOnly = true): string[] {
  const statement = /^(?:import|export)\b[^;]*?\bfrom\s*(['"])([^'"]+)\1|\bimport\s*\(\s*(['"])([^'"]+)\3|^import\s*(['"])([^'"]+)\5/gm;
  const specs = [...text.matchAll(statement)].map((m) => m[2] ?? m[4] ?? m[6] ?? '');
  return relativeOnly ? specs.filter((s) => s.startsWith('./') || s.startsWith('../')) : specs;
}

function violations(): string[] {
  const bad: string[] = [];
  const files = ['agent', 'probes', 'buffer'].flatMap((d) => sources(join(ROOT, d)));
  for (const file of files) {
    const rel = relative(ROOT, file);
    const from = placeOf(rel);
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      const target = relative(ROOT, resolve(dirname(file), spec));
      if (target.startsWith('..') || !/^(agent|probes|buffer)\//.test(target)) continue;
      const to = placeOf(target);
      if (!allowed(from, to)) bad.push(`${rel} (${from.layer} ${from.unit}) imports ${target} (${to.layer} ${to.unit})`);
    }
  }
  return bad;
}

test('the rule itself: down is allowed, up and feature-to-feature are not', () => {
  assert.equal(allowed(placeOf('agent/route/plan.ts'), placeOf('agent/core/types.ts')), true);
  assert.equal(allowed(placeOf('agent/core/types.ts'), placeOf('agent/route/plan.ts')), false);
  assert.equal(allowed(placeOf('agent/route/plan.ts'), placeOf('agent/link/component.ts')), false);
  assert.equal(allowed(placeOf('probes/throughput.ts'), placeOf('probes/stats.ts')), true);
  assert.equal(allowed(placeOf('agent/base/log.ts'), placeOf('agent/config/link.ts')), false);
  assert.equal(allowed(placeOf('agent/daemon.ts'), placeOf('buffer/component.ts')), true);
  assert.deepEqual(importsOf("import type { A } from '../x.ts';\nexport { b } from './y.ts';\nconst m = await import('../../z.ts');\nimport './side.ts';"), [
    '../x.ts',
    './y.ts',
    '../../z.ts',
    './side.ts',
  ]);
});

test('every import in agent/, probes/ and buffer/ follows the layer directions', () => {
  assert.deepEqual(violations(), []);
});

test('the pure core imports nothing but itself and agent/base: no schema, no Node API, no dependency', () => {
  const bad: string[] = [];
  for (const file of sources(join(ROOT, 'agent', 'core'))) {
    for (const spec of importsOf(readFileSync(file, 'utf8'), false)) {
      const target = spec.startsWith('.') ? relative(ROOT, resolve(dirname(file), spec)) : spec;
      if (!/^agent\/(core|base)\//.test(target)) bad.push(`${relative(ROOT, file)} imports ${spec}`);
    }
  }
  assert.deepEqual(bad, []);
});

/**
 * Where a synchronous child process may run: the one-shot CLI (`linkward init` through systeminformation) and the
 * revert helper's own program (a separate process). Anywhere else it would block the daemon's event loop: an idle agent
 * spent 2.5 s of 146 s blocked in systeminformation's execSync before link facts moved to sysfs (session 13).
 */
const SYNC_CHILD_ALLOWED = new Set(['agent/cli/interfaces.ts', 'agent/route/revert-helper-program.ts']);

test('no synchronous child process and no systeminformation outside the one-shot CLI and the revert helper', () => {
  const bad: string[] = [];
  for (const file of ['agent', 'probes', 'buffer'].flatMap((d) => sources(join(ROOT, d)))) {
    const rel = relative(ROOT, file);
    if (SYNC_CHILD_ALLOWED.has(rel)) continue;
    const text = readFileSync(file, 'utf8');
    if (importsOf(text, false).includes('systeminformation')) bad.push(`${rel} imports systeminformation (its Linux calls use execSync)`);
    for (const m of text.matchAll(/\b(execSync|spawnSync|execFileSync)\s*\(/g)) bad.push(`${rel} calls ${m[1]}`);
  }
  assert.deepEqual(bad, []);
});
