/** Renders deploy/fleet kustomize dirs with the real kubectl and checks every object against the Kubernetes schemas. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const FLEET_DIR = join(ROOT, 'deploy', 'fleet');
/** `kubectl kustomize` of one dir takes ~0.1 s; 30 s only trips on a hung kubectl. */
const KUBECTL_TIMEOUT_MS = 30_000;
/** tsc over the generated declarations takes ~5 s on 2 cores; 120 s bounds a loaded CI machine. */
const TSC_TIMEOUT_MS = 120_000;

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

/** Every kustomization root under deploy/fleet: base and each overlay (components are rendered through overlays). */
export function kustomizeDirs(): string[] {
  const overlays = readdirSync(join(FLEET_DIR, 'overlays')).map((d) => `overlays/${d}`);
  return ['base', ...overlays].filter((d) => existsSync(join(FLEET_DIR, d, 'kustomization.yaml')));
}

/** `kubectl kustomize DIR` (offline; kubectl's built-in kustomize), parsed into objects. */
export function render(dir: string): K8sObject[] {
  const out = execFileSync('kubectl', ['kustomize', join(FLEET_DIR, dir)], { encoding: 'utf8', timeout: KUBECTL_TIMEOUT_MS });
  return parseYamlObjects(out, dir);
}

export function parseYamlObjects(text: string, what: string): K8sObject[] {
  const docs = parseAllDocuments(text);
  for (const d of docs) if (d.errors.length > 0) throw new Error(`${what}: ${d.errors.map((e) => e.message).join('; ')}`);
  return docs.map((d) => d.toJS() as K8sObject | null).filter((o): o is K8sObject => o !== null);
}

/** Module that holds the model of apiVersion/kind: kubernetes-models for built-in kinds, add-on packages for CRDs. */
export function modelModule(o: Pick<K8sObject, 'apiVersion' | 'kind'>): string {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  if (group === 'monitoring.coreos.com') return `@kubernetes-models/prometheus-operator/${group}/${version}/${o.kind}`;
  return group === '' ? `kubernetes-models/${version}/${o.kind}` : `kubernetes-models/${group}/${version}/${o.kind}`;
}

/** Validates with the model's JSON-schema validator (types, formats such as quantities, required fields). Throws. */
export async function validateSchema(o: K8sObject): Promise<void> {
  const mod = (await import(modelModule(o))) as Record<string, new (data: unknown) => { validate(): void }>;
  const Model = mod[o.kind];
  if (!Model) throw new Error(`${modelModule(o)} has no ${o.kind}`);
  new Model(o).validate();
}

/**
 * The JSON-schema validators accept unknown fields (Kubernetes' OpenAPI has no additionalProperties: false), and a
 * misspelt `livenesProbe` would silently vanish on the server. So every object is also written as a TypeScript object
 * literal typed by its model interface: tsc's excess-property check then rejects any field the schema does not know,
 * like `kubectl apply --validate=strict` would. Returns tsc's diagnostics ('' when clean).
 */
export function unknownFieldErrors(objects: { where: string; obj: K8sObject }[]): string {
  const dir = mkdtempSync(join(ROOT, 'test', '.deploy-types-'));
  try {
    const lines = objects.map(({ where, obj }, i) => {
      const iface = `I${obj.kind}`;
      return `import type { ${iface} as T${i} } from '${modelModule(obj)}';\n// ${where}: ${obj.kind}/${obj.metadata.name}\nexport const o${i}: T${i} = ${JSON.stringify(obj, null, 1)};`;
    });
    writeFileSync(join(dir, 'objects.ts'), lines.join('\n'));
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const args = [
      tsc,
      '--noEmit',
      '--strict',
      '--skipLibCheck',
      '--target',
      'es2022',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--types',
      'node',
      join(dir, 'objects.ts'),
    ];
    try {
      execFileSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: TSC_TIMEOUT_MS });
      return '';
    } catch (e) {
      const err = e as { stdout?: string; message: string };
      return err.stdout || err.message;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The agent config file carried by a rendered ConfigMap linkward-config. */
export function agentConfigText(objects: K8sObject[]): string | undefined {
  const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('linkward-config'));
  return (cm?.data as Record<string, string> | undefined)?.['config.yaml'];
}
