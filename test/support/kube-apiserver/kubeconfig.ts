/** Writes a kubeconfig for the test API server (http with insecure-skip-tls-verify, as client-node 2.x requires). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Kubeconfig text pointing at `serverUrl` with a static bearer token; with `caPem`, verifies TLS against that CA. */
export function kubeconfigText(serverUrl: string, token = 'linkward-test-token', caPem?: string): string {
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
    `    token: ${token}`,
    'contexts:',
    '- name: test',
    '  context: {cluster: test, user: test}',
    'current-context: test',
    '',
  ].join('\n');
}

/** Writes the kubeconfig into a fresh temp dir and returns its path. */
export function writeKubeconfig(serverUrl: string, caPem?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'k8s-kubeconfig-'));
  const path = join(dir, 'config');
  writeFileSync(path, kubeconfigText(serverUrl, undefined, caPem), { mode: 0o600 });
  return path;
}
