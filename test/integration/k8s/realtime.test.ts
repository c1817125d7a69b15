/** The node component on the real clock (as the daemon runs it): short backoff, outage, recovery, bounded wall time. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { AgentBus } from '../../../agent/runtime/bus.ts';
import { systemClock } from '../../../agent/base/clock.ts';
import { validateConfig } from '../../../agent/config/load.ts';
import { silentLogger } from '../../../agent/base/log.ts';
import { createNodeComponent } from '../../../agent/k8s/component.ts';
import { realNodeDeps } from '../../../agent/k8s/adapters.ts';
import { LABEL_LINK_STATE } from '../../../agent/k8s/types.ts';
import { KubeApiServer } from '../../support/kube-apiserver/server.ts';
import { writeKubeconfig } from '../../support/kube-apiserver/kubeconfig.ts';
import { seedNode } from '../../support/kube-apiserver/fixtures.ts';
import { snapshotOf, waitFor } from '../../support/k8s-harness.ts';

test('real clock: API refused, then the desired state lands once it is back (short backoff cap)', async (t) => {
  const api = new KubeApiServer();
  await api.start();
  t.after(() => api.stop());
  seedNode(api, 'n1');
  const v = validateConfig({ kubernetes: { kubeconfig: writeKubeconfig(api.url), maxBackoffMs: 100, requestTimeoutMs: 500 } });
  assert.ok(v.ok);
  const bus = new AgentBus();
  const ctx = {
    config: v.config,
    log: silentLogger(),
    clock: systemClock,
    metrics: new Registry(),
    bus,
    stateDir: '/x',
    stateDb: undefined as never,
    nodeName: 'n1',
  };
  const c = createNodeComponent(ctx, realNodeDeps(ctx));
  await c.start();
  t.after(() => c.stop());
  bus.emit('link', snapshotOf('healthy', Date.now()));
  await waitFor('healthy', () => api.store.get('nodes', '', 'n1')?.metadata?.labels?.[LABEL_LINK_STATE as never] === 'healthy');
  await api.goOffline();
  bus.emit('link', snapshotOf('degraded', Date.now(), 3));
  await waitFor('component reports the failing API', () => c.status().state === 'degraded');
  const back = Date.now();
  await api.start();
  // How fast it lands is a benchmark figure (npm run bench:k8s); here: it lands once the API is back, on the real clock.
  await waitFor('degraded applied', () => api.store.get('nodes', '', 'n1')?.metadata?.labels?.[LABEL_LINK_STATE as never] === 'degraded', 10_000);
  t.diagnostic(`applied ${Date.now() - back} ms after the API came back (backoff cap 100 ms)`);
  await waitFor('ok', () => c.status().state === 'ok');
});
