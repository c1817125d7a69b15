/** The node component on the real clock (as the daemon runs it): short backoff, outage, recovery, bounded wall time. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { AgentBus } from '../../../agent/runtime/bus.ts';
import { systemClock } from '../../../agent/base/clock.ts';
import { validateConfig } from '../../../agent/config/load.ts';
import { silentLogger } from '../../../agent/base/log.ts';
import { createNodeComponent } from '../../../agent/k8s/component.ts';
import { LABEL_LINK_STATE } from '../../../agent/k8s/types.ts';
import { KubeApiServer } from '../../support/kube-apiserver/server.ts';
import { writeKubeconfig } from '../../support/kube-apiserver/kubeconfig.ts';
import { seedNode } from '../../support/kube-apiserver/fixtures.ts';
import { snapshotOf, waitFor } from '../../support/k8s-harness.ts';

test('real clock: API refused for 1.5 s, then the desired state lands within the (100 ms) backoff cap', async (t) => {
  const api = new KubeApiServer();
  await api.start();
  t.after(() => api.stop());
  seedNode(api, 'n1');
  const v = validateConfig({ kubernetes: { kubeconfig: writeKubeconfig(api.url), maxBackoffMs: 100, requestTimeoutMs: 500 } });
  assert.ok(v.ok);
  const bus = new AgentBus();
  const c = createNodeComponent({ config: v.config, log: silentLogger(), clock: systemClock, metrics: new Registry(), bus, stateDir: '/x', stateDb: undefined as never, nodeName: 'n1' });
  await c.start();
  t.after(() => c.stop());
  bus.emit('link', snapshotOf('healthy', Date.now()));
  await waitFor('healthy', () => api.store.get('nodes', '', 'n1')?.metadata?.labels?.[LABEL_LINK_STATE as never] === 'healthy');
  await api.goOffline();
  bus.emit('link', snapshotOf('degraded', Date.now(), 3));
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(c.status().state, 'degraded');
  const back = Date.now();
  await api.start();
  await waitFor('degraded applied', () => api.store.get('nodes', '', 'n1')?.metadata?.labels?.[LABEL_LINK_STATE as never] === 'degraded', 3000);
  assert.ok(Date.now() - back < 1000, `took ${Date.now() - back} ms`);
  await waitFor('ok', () => c.status().state === 'ok');
});
