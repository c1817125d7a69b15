/** deploy/ manifests parse, and RBAC grants exactly the verbs the adapter's calls need (least privilege). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { KubernetesConfigSchema } from '../../../agent/config/k8s.ts';

const DEPLOY = join(import.meta.dirname, '../../../deploy');
/** The kustomize base (also the Rancher Fleet bundle's default), relative to DEPLOY. */
const BASE = 'fleet/base';

function docs(file: string): Record<string, unknown>[] {
  const all = parseAllDocuments(readFileSync(join(DEPLOY, file), 'utf8'));
  for (const d of all) assert.deepEqual(d.errors, [], `${file}: ${d.errors.map((e) => e.message).join('; ')}`);
  return all.map((d) => d.toJS() as Record<string, unknown>).filter(Boolean);
}

test('every manifest parses and has apiVersion/kind/metadata.name', () => {
  const files = [`${BASE}/rbac.yaml`, `${BASE}/admission-policy.yaml`, `${BASE}/daemonset.yaml`, 'examples/link-sidecar.yaml'];
  for (const f of files)
    for (const d of docs(f)) {
      assert.ok(d.apiVersion && d.kind, `${f}: ${JSON.stringify(d).slice(0, 80)}`);
      assert.ok((d.metadata as { name?: string }).name, `${f}: ${String(d.kind)} without a name`);
    }
  assert.ok(readdirSync(join(DEPLOY, 'examples')).length >= 1);
});

test('RBAC is least privilege: exactly the verbs the code calls', () => {
  const rules = docs(`${BASE}/rbac.yaml`)
    .filter((d) => d.kind === 'ClusterRole' || d.kind === 'Role')
    .flatMap((d) =>
      (d.rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[]).map((r) => ({ ...r, role: (d.metadata as { name: string }).name })),
    );
  const grants = new Set(rules.flatMap((r) => r.resources.flatMap((res) => r.verbs.map((v) => `${r.apiGroups[0] ?? ''}/${res}:${v}`))));
  // From agent/k8s/client-node-api.ts: each NodeApi method → one (group/resource:verb).
  const needed = [
    '/nodes:get',
    '/nodes:list',
    '/nodes:watch',
    '/nodes:patch',
    '/nodes/status:patch',
    '/events:create',
    'coordination.k8s.io/leases:get',
    'coordination.k8s.io/leases:create',
    'coordination.k8s.io/leases:update',
    '/pods:list',
    '/pods:get',
    '/pods/eviction:create',
  ];
  assert.deepEqual([...grants].sort(), [...needed].sort());
  for (const r of rules) {
    assert.ok(!r.verbs.includes('*') && !r.resources.includes('*'), 'no wildcards');
    assert.ok(!r.verbs.includes('delete'), 'linkward never deletes');
  }
});

test('admission policy restricts to own node and linkward.io keys; the base config is valid', () => {
  const [policy, binding] = docs(`${BASE}/admission-policy.yaml`);
  assert.equal(policy?.kind, 'ValidatingAdmissionPolicy');
  assert.equal(binding?.kind, 'ValidatingAdmissionPolicyBinding');
  const text = JSON.stringify(policy);
  assert.match(text, /authentication.kubernetes.io\/node-name/);
  assert.match(text, /startsWith\('linkward.io\/'\)/);
  const cfg = docs(`${BASE}/config.yaml`)[0] as { kubernetes: unknown };
  const parsed = KubernetesConfigSchema.safeParse(cfg.kubernetes);
  assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
});
