/** Lab child (run inside a namespace): times Kubernetes API calls through createApiFor against a blackholed server; prints one JSON line per call. */
import { connect } from 'node:net';
import { createApiFor } from '../../agent/k8s/adapters.ts';

const [kubeconfig, client, timeoutArg, callsArg, host, port] = process.argv.slice(2);
const timeoutMs = Number(timeoutArg);
const print = (o: Record<string, unknown>): void => void process.stdout.write(JSON.stringify(o) + '\n');

/** Proof that the address is a blackhole (SYNs dropped, nothing refused): a bare connect still pending after this long. */
const RAW_CONNECT_WAIT_MS = 3_000;
const raw = await new Promise<string>((resolve) => {
  const s = connect(Number(port), host!);
  const t = setTimeout(() => {
    s.destroy();
    resolve('pending');
  }, RAW_CONNECT_WAIT_MS);
  s.on('connect', () => {
    clearTimeout(t);
    s.destroy();
    resolve('connected');
  });
  s.on('error', (e: NodeJS.ErrnoException) => {
    clearTimeout(t);
    resolve(`error ${e.code ?? e.message}`);
  });
});
print({ raw });

const api = await createApiFor(client as 'lean' | 'client-node', { kind: 'kubeconfig', path: kubeconfig!, description: `kubeconfig ${kubeconfig}` }, timeoutMs);
for (let i = 0; i < Number(callsArg); i++) {
  const t0 = performance.now();
  try {
    await api.getNode('edge');
    print({ call: i, ms: Math.round(performance.now() - t0), code: 'answered' });
  } catch (e) {
    print({ call: i, ms: Math.round(performance.now() - t0), code: (e as { code?: string }).code ?? String(e), message: (e as Error).message });
  }
}
api.close?.();
process.exit(0);
