/** deploy/fleet/fleet.yaml is a Rancher Fleet bundle definition: known keys only, every target renders, nothing outside. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { FLEET_DIR, kustomizeDirs, render, ROOT } from './render.ts';

// The subset of Fleet's fleet.yaml (FleetYAML / BundleTarget, Fleet docs "fleet.yaml reference") this bundle uses,
// strict: a misspelt key (`targetCustomisations`, `clusterSelectors`) is ignored by Fleet and would silently deploy
// the default everywhere, so it fails here.
const LabelSelector = z.strictObject({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z
    .array(z.strictObject({ key: z.string(), operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']), values: z.array(z.string()).optional() }))
    .optional(),
});
const Kustomize = z.strictObject({ dir: z.string().min(1) });
const Target = z.strictObject({
  name: z.string().regex(/^[a-z0-9-]+$/),
  clusterSelector: LabelSelector.optional(),
  clusterGroup: z.string().optional(),
  clusterName: z.string().optional(),
  kustomize: Kustomize.optional(),
  doNotDeploy: z.boolean().optional(),
});
const FleetYaml = z.strictObject({
  defaultNamespace: z.string(),
  labels: z.record(z.string(), z.string()).optional(),
  kustomize: Kustomize,
  targetCustomizations: z.array(Target).min(1),
});

const text = readFileSync(join(FLEET_DIR, 'fleet.yaml'), 'utf8');
const fleet = FleetYaml.parse(parse(text));

test('fleet.yaml has only Fleet keys, and its targets select clusters by label', () => {
  const names = fleet.targetCustomizations.map((t) => t.name);
  assert.equal(new Set(names).size, names.length, 'target names are unique');
  for (const t of fleet.targetCustomizations) {
    const labels = Object.keys(t.clusterSelector?.matchLabels ?? {});
    assert.ok(labels.length > 0 && labels.every((l) => l.startsWith('linkward.io/')), `${t.name}: selects by linkward.io/* cluster labels`);
    assert.ok(t.doNotDeploy === true || t.kustomize, `${t.name}: picks an overlay or deploys nothing`);
  }
  // Fleet applies the FIRST matching target: the two-label target must come before the one-label ones it overlaps.
  const idx = (n: string): number => names.indexOf(n);
  assert.ok(idx('failover-monitored') < idx('failover') && idx('failover-monitored') < idx('monitored'));
  assert.throws(() => FleetYaml.parse({ ...fleet, targetCustomisations: [] }), /targetCustomisations/);
});

test('every kustomize dir Fleet may render is inside the bundle directory, renders, and every overlay is used', () => {
  const dirs = [fleet.kustomize.dir, ...fleet.targetCustomizations.flatMap((t) => (t.kustomize ? [t.kustomize.dir] : []))];
  for (const d of dirs) {
    const abs = resolve(FLEET_DIR, d);
    assert.ok(!relative(FLEET_DIR, abs).startsWith('..'), `${d}: Fleet does not read files outside the bundle`);
    assert.ok(d !== '.', 'kustomize dir "." trips Fleet\'s kustomize path check; use a subdirectory');
    assert.ok(existsSync(join(abs, 'kustomization.yaml')), `${d}/kustomization.yaml`);
    assert.ok(render(d).length > 0, `${d} renders`);
  }
  assert.deepEqual([...new Set(dirs)].sort(), kustomizeDirs().sort(), 'each kustomization root is reachable from some target');
});

test('no kustomization under the bundle reaches outside it (Fleet ships only the bundle directory)', () => {
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name === 'kustomization.yaml') files.push(join(d, e.name));
    }
  };
  walk(FLEET_DIR);
  assert.ok(files.length >= 7, `${files.length} kustomization files`);
  for (const f of files) {
    const k = parse(readFileSync(f, 'utf8')) as {
      resources?: string[];
      components?: string[];
      patches?: { path?: string }[];
      configMapGenerator?: { files?: string[] }[];
    };
    const refs = [
      ...(k.resources ?? []),
      ...(k.components ?? []),
      ...(k.patches ?? []).flatMap((p) => (p.path ? [p.path] : [])),
      ...(k.configMapGenerator ?? []).flatMap((g) => g.files ?? []),
    ];
    for (const r of refs) {
      const abs = resolve(join(f, '..'), r);
      assert.ok(!relative(FLEET_DIR, abs).startsWith('..'), `${relative(ROOT, f)}: ${r} is outside deploy/fleet`);
      assert.ok(existsSync(abs), `${relative(ROOT, f)}: ${r} exists`);
    }
  }
});

test('Fleet would not mistake another directory for a bundle: fleet.yaml exists only at deploy/fleet', () => {
  const found: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name === 'fleet.yaml' || e.name === 'fleet.yml') found.push(relative(ROOT, join(d, e.name)));
    }
  };
  walk(join(ROOT, 'deploy'));
  assert.deepEqual(found, ['deploy/fleet/fleet.yaml']);
});
