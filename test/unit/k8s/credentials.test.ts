/** Cluster discovery order and the lean client's kubeconfig reading (tokens, files, certs, unsupported auth). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../support/kube-apiserver/kubeconfig.ts';
import { findCluster, K3S_KUBECONFIG, SA_TOKEN_PATH } from '../../../agent/k8s/cluster.ts';
import { loadCredentials } from '../../../agent/k8s/credentials.ts';
import { isLwError } from '../../../agent/base/errors.ts';

test('findCluster: explicit, in-cluster, $KUBECONFIG, k3s, none', () => {
  const none = { env: {}, exists: () => false };
  assert.equal(findCluster(undefined, none), null);
  assert.equal(findCluster('/x', none)?.kind, 'kubeconfig');
  assert.equal(findCluster(undefined, { env: { KUBERNETES_SERVICE_HOST: '10.0.0.1' }, exists: (p) => p === SA_TOKEN_PATH })?.kind, 'in-cluster');
  assert.deepEqual(findCluster(undefined, { env: { KUBECONFIG: '/missing:/b' }, exists: (p) => p === '/b' }), {
    kind: 'kubeconfig',
    path: '/b',
    description: 'kubeconfig /b ($KUBECONFIG)',
  });
  assert.equal(findCluster(undefined, { env: {}, exists: (p) => p === K3S_KUBECONFIG })?.description, `kubeconfig ${K3S_KUBECONFIG} (k3s)`);
});

function kc(user: string, cluster = 'server: https://10.0.0.1:6443\n    certificate-authority: ca.pem'): string {
  const dir = tempDir('k8s-cred-');
  writeFileSync(join(dir, 'ca.pem'), 'CA');
  writeFileSync(join(dir, 'tok'), 'file-token\n');
  const p = join(dir, 'config');
  writeFileSync(
    p,
    `apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\nclusters:\n- name: k\n  cluster:\n    ${cluster}\nusers:\n- name: u\n  user:\n    ${user}\n`,
  );
  return p;
}

test('loadCredentials: k3s-style client certificate data, relative CA file, token file', () => {
  const c = loadCredentials({
    kind: 'kubeconfig',
    path: kc(`client-certificate-data: ${Buffer.from('CERT').toString('base64')}\n    client-key-data: ${Buffer.from('KEY').toString('base64')}`),
    description: 'x',
  });
  assert.equal(c.server, 'https://10.0.0.1:6443');
  assert.equal(c.ca?.toString(), 'CA');
  assert.equal(c.cert?.toString(), 'CERT');
  assert.equal(c.key?.toString(), 'KEY');
  assert.equal(c.insecure, false);
  const t = loadCredentials({ kind: 'kubeconfig', path: kc('tokenFile: tok'), description: 'x' });
  assert.match(String(t.tokenFile), /\/tok$/);
});

test('loadCredentials: exec plugins and plain http without the insecure flag are refused with codes', () => {
  assert.throws(
    () => loadCredentials({ kind: 'kubeconfig', path: kc('exec: {command: aws}'), description: 'x' }),
    (e: unknown) => isLwError(e, 'LW_K8S_LEAN_UNSUPPORTED'),
  );
  assert.throws(
    () => loadCredentials({ kind: 'kubeconfig', path: kc('token: t', 'server: http://10.0.0.1:8080'), description: 'x' }),
    (e: unknown) => isLwError(e, 'LW_K8S_CONFIG_INVALID'),
  );
  assert.throws(
    () => loadCredentials({ kind: 'kubeconfig', path: '/nonexistent/config', description: 'x' }),
    (e: unknown) => isLwError(e, 'LW_K8S_CONFIG_INVALID'),
  );
  const ic = loadCredentials({ kind: 'in-cluster', description: 'x' }, { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, () =>
    Buffer.from('CA'),
  );
  assert.equal(ic.server, 'https://[fd00::1]:443');
  assert.match(String(ic.tokenFile), /serviceaccount\/token$/);
});

test('auto client falls back to client-node for an exec kubeconfig', async () => {
  const { createApiFor } = await import('../../../agent/k8s/adapters.ts');
  const api = await createApiFor(
    'auto',
    { kind: 'kubeconfig', path: kc('exec: {command: /bin/true, apiVersion: client.authentication.k8s.io/v1}'), description: 'exec' },
    500,
  );
  assert.equal(api.source, 'exec', 'client-node adapter (lean would add "(lean client)")');
  await assert.rejects(
    createApiFor('lean', { kind: 'kubeconfig', path: kc('exec: {command: /bin/true}'), description: 'exec' }, 500),
    /lean client does not support/,
  );
});
