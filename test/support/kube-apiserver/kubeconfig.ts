/** Writes a kubeconfig for the test API server (http with insecure-skip-tls-verify, as client-node 2.x requires). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Kubeconfig text pointing at `serverUrl`: bearer token, or a client certificate (k3s style); with `caPem`, verifies TLS. */
export function kubeconfigText(serverUrl: string, token = 'linkward-test-token', caPem?: string, client?: { cert: string; key: string }): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: test',
    '  cluster:',
    `    server: ${serverUrl}`,
    caPem ? `    certificate-authority-data: ${Buffer.from(caPem).toString('base64')}` : '    insecure-skip-tls-verify: true',
    'users:',
    '- name: test',
    '  user:',
    ...(client
      ? [`    client-certificate-data: ${Buffer.from(client.cert).toString('base64')}`, `    client-key-data: ${Buffer.from(client.key).toString('base64')}`]
      : [`    token: ${token}`]),
    'contexts:',
    '- name: test',
    '  context: {cluster: test, user: test}',
    'current-context: test',
    '',
  ].join('\n');
}

/** A fresh temp directory that is removed when the test process exits. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes the kubeconfig into a fresh temp dir (removed at exit) and returns its path. */
export function writeKubeconfig(serverUrl: string, caPem?: string, client?: { cert: string; key: string }): string {
  const dir = tempDir('k8s-kubeconfig-');
  const path = join(dir, 'config');
  writeFileSync(path, kubeconfigText(serverUrl, undefined, caPem, client), { mode: 0o600 });
  return path;
}
