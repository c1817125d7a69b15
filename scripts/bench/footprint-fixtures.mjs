// Footprint fixtures: the config and local peers that enable every feature the agent has, on loopback only.
// Probes (probe server), link, route (2 uplinks, dry-run: the host's routes are never touched), node actions
// (the test API server from test/support), buffer (a sink + the agent's own telemetry to a local receiver).
import { createServer } from 'node:http';
import { startProbeServer } from '../../probes/server.ts';
import { KubeApiServer } from '../../test/support/kube-apiserver/server.ts';
import { seedNode } from '../../test/support/kube-apiserver/fixtures.ts';
import { writeKubeconfig } from '../../test/support/kube-apiserver/kubeconfig.ts';

/** Node name the agent decorates in the test API server. */
const NODE = 'footprint-node';

/** Returns { config, env, features, stop() }. */
export async function startFootprintFixtures() {
  const probe = await startProbeServer({ host: '127.0.0.1', port: 0 });
  const api = new KubeApiServer();
  await api.start();
  seedNode(api, NODE, { fleet: 'edge' });
  const kubeconfig = writeKubeconfig(api.url);
  let received = 0;
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      res.writeHead(204).end();
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', () => r(undefined)));
  const sinkUrl = `http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (receiver.address()).port}/api/v1/write`;
  const target = `linkward://127.0.0.1:${probe.port}`;
  const config = {
    node: { name: NODE },
    probes: { targets: [target], throughput: { url: `http://127.0.0.1:${probe.port}` } },
    uplinks: {
      policy: { dryRun: true },
      list: [
        { name: 'wan', interface: 'lo', gateway: '127.0.0.1', sourceAddress: '127.0.0.1', priority: 10 },
        { name: 'lte', interface: 'lo', gateway: '127.0.0.1', sourceAddress: '127.0.0.1', priority: 20, metered: true },
      ],
    },
    kubernetes: { kubeconfig },
    sinks: [{ name: 'metrics', url: sinkUrl, protocol: 'prometheus-remote-write' }],
    buffer: { selfTelemetry: { sink: 'metrics' } },
  };
  return {
    config,
    env: {},
    features: ['probes (light + throughput schedule)', 'link', 'route (2 uplinks, dry-run)', 'node actions (test API server)', 'buffer (+ own telemetry)'],
    received: () => received,
    async stop() {
      await probe.close();
      await api.stop?.();
      await new Promise((r) => receiver.close(r));
    },
  };
}
