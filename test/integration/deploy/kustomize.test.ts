/** deploy/fleet: base and every overlay render offline with kubectl, each object passes the Kubernetes schemas, configs parse. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { AgentConfigSchema } from '../../../agent/config/schema.ts';
import { agentConfigText, kustomizeDirs, parseYamlObjects, render, ROOT, unknownFieldErrors, validateSchema, type K8sObject } from './render.ts';

const rendered = new Map(kustomizeDirs().map((d) => [d, render(d)]));
const examples = readdirSync(join(ROOT, 'deploy', 'examples')).map((f) => ({
  dir: `examples/${f}`,
  objects: parseYamlObjects(readFileSync(join(ROOT, 'deploy', 'examples', f), 'utf8'), f),
}));
const all = [...[...rendered].map(([dir, objects]) => ({ dir, objects })), ...examples].flatMap(({ dir, objects }) =>
  objects.map((obj) => ({ where: dir, obj })),
);

function agentDaemonSet(objects: K8sObject[]): {
  securityContext: { capabilities: { add: string[] } };
  ports?: { containerPort: number }[];
  volumeMounts: { mountPath: string }[];
} {
  const ds = objects.find((o) => o.kind === 'DaemonSet' && o.metadata.name === 'linkward') as
    | { spec: { template: { spec: { containers: never[] } } } }
    | undefined;
  assert.ok(ds, 'DaemonSet linkward rendered');
  const c = ds.spec.template.spec.containers.find((x: { name: string }) => x.name === 'linkward');
  assert.ok(c, 'container linkward');
  return c;
}

test('base and all overlays render, and each has the objects its mode needs', () => {
  assert.deepEqual([...rendered.keys()].sort(), [
    'base',
    'overlays/monitoring',
    'overlays/probe-server',
    'overlays/route-switching',
    'overlays/route-switching-monitoring',
  ]);
  for (const [dir, objects] of rendered) {
    assert.ok(objects.length > 0, `${dir} renders objects`);
    for (const o of objects) assert.ok(o.apiVersion && o.kind && o.metadata?.name, `${dir}: object without apiVersion/kind/name`);
  }
  const caps = (dir: string): string[] => agentDaemonSet(rendered.get(dir) ?? []).securityContext.capabilities.add.sort();
  assert.deepEqual(caps('base'), ['NET_RAW'], 'route switching off: no NET_ADMIN');
  assert.deepEqual(caps('overlays/monitoring'), ['NET_RAW']);
  assert.deepEqual(caps('overlays/route-switching'), ['NET_ADMIN', 'NET_RAW']);
  assert.deepEqual(caps('overlays/route-switching-monitoring'), ['NET_ADMIN', 'NET_RAW']);
  for (const dir of ['overlays/monitoring', 'overlays/route-switching-monitoring']) {
    const objects = rendered.get(dir) ?? [];
    assert.ok(
      objects.some((o) => o.kind === 'PodMonitor'),
      `${dir}: PodMonitor`,
    );
    assert.deepEqual(
      agentDaemonSet(objects).ports?.map((p) => p.containerPort),
      [9780],
    );
  }
  const hub = rendered.get('overlays/probe-server') ?? [];
  assert.deepEqual(hub.map((o) => o.kind).sort(), ['Deployment', 'Namespace', 'Service']);
});

test('the DaemonSet mounts the generated ConfigMap (hash-suffixed name, so a config change rolls the pods)', () => {
  for (const [dir, objects] of rendered) {
    if (dir === 'overlays/probe-server') continue;
    const cm = objects.find((o) => o.kind === 'ConfigMap');
    assert.match(cm?.metadata.name ?? '', /^linkward-config-[a-z0-9]{10}$/, dir);
    const ds = objects.find((o) => o.kind === 'DaemonSet') as unknown as { spec: { template: { spec: { volumes: { configMap?: { name: string } }[] } } } };
    assert.ok(
      ds.spec.template.spec.volumes.some((v) => v.configMap?.name === cm?.metadata.name),
      `${dir}: volume refers to ${cm?.metadata.name}`,
    );
  }
});

test('every agent config in the overlays is valid for the agent, with the mode the overlay promises', () => {
  for (const [dir, objects] of rendered) {
    if (dir === 'overlays/probe-server') continue;
    const text = agentConfigText(objects);
    assert.ok(text, `${dir}: config.yaml in the ConfigMap`);
    const parsed = AgentConfigSchema.safeParse(parse(text));
    assert.ok(parsed.success, `${dir}: ${JSON.stringify(parsed.error?.issues)}`);
    const routes = dir.includes('route-switching');
    assert.equal(parsed.data.uplinks.length > 0, routes, `${dir}: uplinks listed iff route switching`);
    if (routes) assert.equal(parsed.data.failover.dryRun, true, `${dir}: first rollout is a dry run`);
    const monitored = dir.includes('monitoring');
    assert.equal(parsed.data.server.listen, monitored ? '0.0.0.0:9780' : '127.0.0.1:9780', dir);
    if (monitored) {
      const mounts = agentDaemonSet(objects).volumeMounts.map((m) => m.mountPath);
      assert.ok(
        mounts.some((m) => parsed.data.server.tokenFile?.startsWith(`${m}/`)),
        `${dir}: tokenFile ${parsed.data.server.tokenFile} is on a mounted volume`,
      );
    }
  }
});

test('every rendered object and example passes its Kubernetes schema (kubernetes-models validators)', async () => {
  assert.ok(all.length >= 20, `${all.length} objects`);
  for (const { where, obj } of all) {
    await assert.doesNotReject(validateSchema(obj), `${where}: ${obj.kind}/${obj.metadata.name}`);
  }
});

test('schema validation catches what it should: a bad quantity and a probe without a port', async () => {
  const ds = structuredClone(rendered.get('base')?.find((o) => o.kind === 'DaemonSet')) as K8sObject & {
    spec: { template: { spec: { containers: Record<string, unknown>[] } } };
  };
  const c = ds.spec.template.spec.containers[0] as { resources: { limits: Record<string, unknown> }; readinessProbe: { httpGet: Record<string, unknown> } };
  c.resources.limits.memory = 'lots';
  await assert.rejects(validateSchema(ds), /memory/);
  c.resources.limits.memory = '96Mi';
  delete c.readinessProbe.httpGet.port;
  await assert.rejects(validateSchema(ds), /port/);
});

test('no object carries a field its schema does not know (strict, like kubectl --validate=strict)', () => {
  const typo = structuredClone(all.find(({ obj }) => obj.kind === 'DaemonSet')) as {
    where: string;
    obj: K8sObject & { spec: { template: { spec: { containers: Record<string, unknown>[] } } } };
  };
  const c = typo.obj.spec.template.spec.containers[0] as Record<string, unknown>;
  c.livenesProbe = c.livenessProbe;
  typo.where = 'deliberate typo';
  const errors = unknownFieldErrors([...all, typo]);
  const lines = errors.split('\n').filter((l) => l.includes('error TS'));
  // Exactly one complaint, and it is the deliberate one: proves the check is live and that the real manifests are clean.
  assert.equal(lines.length, 1, errors);
  assert.match(lines[0] ?? '', /livenesProbe/);
});
