/** Reads cluster credentials for the lean client: kubeconfig (token, token file, client certificate, CA) or in-cluster. */
import { readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';
import { LwError } from '../base/errors.ts';
import type { ClusterSource } from './cluster.ts';
import { K8sErrorCode } from './errors.ts';

/** In-cluster ServiceAccount files (the token rotates: it is re-read, never cached for long). */
export const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface Credentials {
  /** Base URL without a trailing slash. */
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  insecure: boolean;
  servername?: string;
  token?: string;
  tokenFile?: string;
}

type Named<T> = { name?: string } & T;
interface KubeconfigFile {
  'current-context'?: string;
  contexts?: Named<{ context?: { cluster?: string; user?: string } }>[];
  clusters?: Named<{ cluster?: Record<string, unknown> }>[];
  users?: Named<{ user?: Record<string, unknown> }>[];
}

function unsupported(what: string, path: string): LwError {
  return new LwError(
    K8sErrorCode.LEAN_UNSUPPORTED,
    `kubeconfig ${path} uses ${what}, which the lean client does not support; set kubernetes.client: client-node`,
    { context: { path, what } },
  );
}

/** Loads credentials; throws LW_K8S_CONFIG_INVALID (unreadable, incomplete) or LW_K8S_LEAN_UNSUPPORTED. */
export function loadCredentials(
  source: ClusterSource,
  env: NodeJS.ProcessEnv = process.env,
  read: (p: string) => Buffer = (p) => readFileSync(p),
): Credentials {
  if (source.kind === 'in-cluster') {
    const host = env.KUBERNETES_SERVICE_HOST ?? '';
    const port = env.KUBERNETES_SERVICE_PORT ?? '443';
    return {
      server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`,
      ca: read(join(SA_DIR, 'ca.crt')),
      insecure: false,
      tokenFile: join(SA_DIR, 'token'),
    };
  }
  const path = source.path;
  let doc: KubeconfigFile;
  try {
    doc = (parse(read(path).toString('utf8')) ?? {}) as KubeconfigFile;
  } catch (cause) {
    throw new LwError(K8sErrorCode.CONFIG_INVALID, `cannot read kubeconfig ${path}: ${(cause as Error).message}`, { cause });
  }
  const ctxName = doc['current-context'];
  const ctx = doc.contexts?.find((c) => c.name === ctxName)?.context ?? (doc.contexts?.length === 1 ? doc.contexts[0]?.context : undefined);
  const cluster = doc.clusters?.find((c) => c.name === ctx?.cluster)?.cluster;
  const user = doc.users?.find((u) => u.name === ctx?.user)?.user ?? {};
  if (!cluster || typeof cluster.server !== 'string')
    throw new LwError(K8sErrorCode.CONFIG_INVALID, `kubeconfig ${path}: no cluster with a server for current-context "${ctxName ?? ''}"`);
  if (user.exec) throw unsupported('an exec credential plugin', path);
  if (user['auth-provider']) throw unsupported('an auth-provider', path);
  if (user.username || user.password) throw unsupported('basic auth', path);
  if (cluster['proxy-url']) throw unsupported('proxy-url', path);
  const base = dirname(path);
  const file = (p: unknown): Buffer | undefined => (typeof p === 'string' && p ? read(isAbsolute(p) ? p : join(base, p)) : undefined);
  const data = (d: unknown): Buffer | undefined => (typeof d === 'string' && d ? Buffer.from(d, 'base64') : undefined);
  const insecure = cluster['insecure-skip-tls-verify'] === true;
  const server = cluster.server.replace(/\/+$/, '');
  if (server.startsWith('http://') && !insecure) {
    throw new LwError(
      K8sErrorCode.CONFIG_INVALID,
      `kubeconfig ${path}: refusing plain http to ${server} without insecure-skip-tls-verify (same rule as client-node)`,
    );
  }
  const out: Credentials = { server, insecure };
  const ca = data(cluster['certificate-authority-data']) ?? file(cluster['certificate-authority']);
  const cert = data(user['client-certificate-data']) ?? file(user['client-certificate']);
  const key = data(user['client-key-data']) ?? file(user['client-key']);
  if (ca) out.ca = ca;
  if (cert) out.cert = cert;
  if (key) out.key = key;
  if (typeof cluster['tls-server-name'] === 'string') out.servername = cluster['tls-server-name'];
  if (typeof user.token === 'string') out.token = user.token;
  if (typeof user.tokenFile === 'string') out.tokenFile = isAbsolute(user.tokenFile) ? user.tokenFile : join(base, user.tokenFile);
  return out;
}
