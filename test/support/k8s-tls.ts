/** Self-signed CA and a server certificate for 127.0.0.1 (openssl), for the test API server's TLS mode. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  ca: string;
  key: string;
  cert: string;
  /** Client certificate and key signed by the same CA (k3s kubeconfigs authenticate this way). */
  clientCert: string;
  clientKey: string;
}

/** Generates a throwaway CA and a server cert with SAN IP:127.0.0.1 (fails with a message when openssl is missing). */
export function makePki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'k8s-pki-'));
  const o = (...args: string[]): void => {
    try {
      execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', env: { ...process.env, LC_ALL: 'C' } });
    } catch (e) {
      throw new Error(`openssl failed (install the openssl package): ${(e as Error).message}`);
    }
  };
  try {
    o(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '1',
      '-subj',
      '/CN=linkward-test-ca',
    );
    o('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=127.0.0.1');
    writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
    o('x509', '-req', '-in', 'srv.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.crt', '-days', '1', '-extfile', 'ext.cnf');
    o(
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'cli.key',
      '-out',
      'cli.csr',
      '-subj',
      '/O=system:masters/CN=linkward-test',
    );
    o('x509', '-req', '-in', 'cli.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'cli.crt', '-days', '1');
    const r = (f: string): string => readFileSync(join(dir, f), 'utf8');
    return { ca: r('ca.crt'), key: r('srv.key'), cert: r('srv.crt'), clientCert: r('cli.crt'), clientKey: r('cli.key') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
