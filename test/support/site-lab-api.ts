/** Child process of the site lab: the project's test API server with the site's Node, inside a lab namespace (argv: nodeName [relayHost:port]). */
import { createServer, connect } from 'node:net';
import { KubeApiServer } from './kube-apiserver/server.ts';
import { seedNode } from './kube-apiserver/fixtures.ts';

const [nodeName, relay] = process.argv.slice(2);
if (!nodeName) throw new Error('usage: site-lab-api.ts NODE [HOST:PORT]');
const api = new KubeApiServer();
await api.start();
// A k3s-like single node; the fleet label is what kubernetes.fleet.nodeSelector would select.
seedNode(api, nodeName, { fleet: 'site' });
const local = new URL(api.url);
let served = api.url;
if (relay) {
  // The test server binds loopback only: a TCP relay exposes it on the namespace's far-side address (the remote-cluster variant).
  const [host, port] = relay.split(':');
  await new Promise<void>((resolve, reject) => {
    const srv = createServer((c) => {
      const u = connect(Number(local.port), '127.0.0.1');
      c.pipe(u);
      u.pipe(c);
      c.on('error', () => u.destroy());
      u.on('error', () => c.destroy());
    });
    srv.once('error', reject);
    srv.listen(Number(port), host, () => resolve());
  });
  served = `http://${relay}`;
}
// One line the lab waits for: where kubectl (same namespace) and the agent reach the server.
console.log(JSON.stringify({ ready: true, local: api.url, served }));
process.on('SIGTERM', () => void api.stop().then(() => process.exit(0)));
