/** The own Node is watched, not polled: no Node GETs in steady state, edits seen at once, 410 → re-read, watch errors back off, a failover re-opens it. */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { settle, startHarness, waitFor, type Agent, type Harness } from '../../support/k8s-harness.ts';
import { ANNOTATION_PAUSED } from '../../../agent/k8s/overrides.ts';
import { LABEL_LINK_STATE } from '../../../agent/k8s/types.ts';
import type { WatchStats } from '../../../agent/k8s/node-watch.ts';

/** Reads of the Node: a GET of it, or a list (the watcher lists it by field selector); the fleet lists none here. */
const NODE_GET = /^\/api\/v1\/nodes(\/n1)?$/;
const isWatch = (p: string): boolean => p.endsWith('?watch');

/** One simulated hour: a snapshot every 5 s, a bookmark every minute (as kube-apiserver sends), settling each minute. */
async function hour(h: Harness, a: Agent, state: 'healthy' | 'degraded'): Promise<void> {
  for (let i = 0; i < 720; i++) {
    h.clock.advance(5_000);
    a.emit(state, 40 + (i % 6));
    if (i % 12 === 11) {
      h.api.bookmark();
      await settle(h.api);
    }
  }
  await settle(h.api);
}

const stats = (a: Agent): WatchStats => a.details().watch as WatchStats;

/** A harness with one agent on n1 whose link is healthy and labelled so, its API traffic settled; closed after the test. */
async function healthyAgent(t: TestContext, kubernetes: Record<string, unknown> = {}): Promise<{ h: Harness; a: Agent }> {
  const h = await startHarness(['n1']);
  t.after(() => h.close());
  const a = await h.agent('n1', kubernetes);
  a.emit('healthy', 42);
  await waitFor('healthy', () => h.node('n1').labels[LABEL_LINK_STATE] === 'healthy');
  await settle(h.api);
  return { h, a };
}

for (const client of ['lean', 'client-node'] as const)
  test(`${client}: steady hour: no Node GETs, ≤ 2 watch requests, only the condition heartbeat writes`, async (t) => {
    const { h, a } = await healthyAgent(t, { client });
    assert.equal(h.api.requests.filter((r) => r.method === 'GET' && NODE_GET.test(r.path)).length, 1, 'one read at start (then the watch)');
    const r0 = h.api.requests.length;
    await hour(h, a, 'healthy');
    const reqs = h.api.requests.slice(r0);
    const gets = reqs.filter((r) => r.method === 'GET' && NODE_GET.test(r.path)).length;
    const watches = reqs.filter((r) => isWatch(r.path)).length;
    const writes = reqs.filter((r) => r.method !== 'GET').length;
    t.diagnostic(
      `${client} steady hour: node reads=${gets} watch requests=${watches} writes=${writes} total=${reqs.length}; watch stats ${JSON.stringify(stats(a))}`,
    );
    assert.equal(gets, 0);
    assert.ok(watches <= 2, `watch requests ${watches}`);
    assert.equal(stats(a).idleRestarts, 0, 'bookmarks keep the watch alive');
    assert.ok(writes >= 11 && writes <= 12, `heartbeat only: ${writes}`);
  });

test('an edit of the Node is seen through the watch at once (no resync): a label removed by hand, the pause annotation', async (t) => {
  const h = await startHarness(['n1']);
  t.after(() => h.close());
  const a = await h.agent('n1', { resyncSeconds: 3600, tiers: { down: { cordon: true } } });
  a.emit('down', 0.2);
  await waitFor('cordoned', () => h.node('n1').unschedulable);
  await settle(h.api);
  const r0 = h.api.requests.length;
  const cur = h.api.store.get('nodes', '', 'n1');
  assert.ok(cur?.metadata);
  delete (cur.metadata.labels as Record<string, string>)[LABEL_LINK_STATE];
  h.api.seed('nodes', cur);
  await waitFor('label repaired without any clock advance', () => h.node('n1').labels[LABEL_LINK_STATE] === 'down');
  const again = h.api.store.get('nodes', '', 'n1');
  assert.ok(again?.metadata);
  (again.metadata.annotations as Record<string, string>)[ANNOTATION_PAUSED] = 'true';
  h.api.seed('nodes', again);
  await waitFor('paused: uncordoned at once', () => !h.node('n1').unschedulable);
  assert.deepEqual(
    h.api.requests.slice(r0).filter((r) => r.method === 'GET' && NODE_GET.test(r.path)),
    [],
    'no Node read: the watch brought both edits',
  );
});

test('410 Gone after compaction: the Node is read again and watched from there; later edits still arrive', async (t) => {
  const { h, a } = await healthyAgent(t, { resyncSeconds: 3600 });
  // Other writes move the server on, then history is compacted; the watch is silent, so the agent re-opens it from its old resourceVersion.
  for (let i = 0; i < 5; i++) h.api.seed('configmaps', { metadata: { name: `c${i}`, namespace: 'default' } });
  h.api.store.compact();
  h.clock.advance(150_000); // no bookmark for 2.5 min: presumed dead, re-opened
  await waitFor('410 handled', () => stats(a).gone === 1, 2000).catch((e) => {
    throw new Error(`${(e as Error).message}: ${JSON.stringify(stats(a))} ${JSON.stringify(h.api.requests.slice(-4))}`);
  });
  await settle(h.api);
  const gets = h.api.requests.filter((r) => r.method === 'GET' && NODE_GET.test(r.path)).length;
  assert.equal(gets, 2, 'one list at start, one after 410');
  const cur = h.api.store.get('nodes', '', 'n1');
  assert.ok(cur?.metadata);
  delete (cur.metadata.labels as Record<string, string>)[LABEL_LINK_STATE];
  h.api.seed('nodes', cur);
  await waitFor('edit after the re-read seen', () => h.node('n1').labels[LABEL_LINK_STATE] === 'healthy');
});

test('watch requests answered 503 for 10 minutes back off like every other request', async (t) => {
  const { h } = await healthyAgent(t, { resyncSeconds: 3600 });
  h.api.faults = [{ method: 'GET', path: /^\/api\/v1\/nodes$/, status: 503 }];
  const r0 = h.api.requests.length;
  h.clock.advance(150_000); // the watch is re-opened (idle) and now fails
  await settle(h.api);
  for (let i = 0; i < 120; i++) {
    h.clock.advance(5_000);
    await new Promise((r) => setTimeout(r, 10));
  }
  await settle(h.api);
  const reqs = h.api.requests.slice(r0);
  const watches = reqs.filter((r) => isWatch(r.path)).length;
  t.diagnostic(`10 min of 503 on watch: ${reqs.length} requests (${watches} watch, ${reqs.length - watches} other)`);
  assert.ok(reqs.length <= 46, `bounded by the backoff: ${reqs.length}`);
  h.api.faults = [];
  for (let i = 0; i < 31 && h.api.openWatches === 0; i++) {
    h.clock.advance(1_000);
    await new Promise((r) => setTimeout(r, 15));
  }
  assert.equal(h.api.openWatches, 1, 'watching again within one capped wait');
});

for (const client of ['lean', 'client-node'] as const)
  test(`${client}: a failover re-opens the watch at once on a fresh connection; later requests never reuse a connection from before`, async (t) => {
    const { h, a } = await healthyAgent(t, { client, resyncSeconds: 3600 });
    const before = new Set(h.api.requests.map((r) => r.conn));
    assert.equal(h.api.openWatches, 1);
    const r0 = h.api.requests.length;
    // No clock advance anywhere below: without the re-open the old stream would be given up only after WATCH_IDLE_MS.
    a.ctx.bus.emit('active', 'lte');
    await waitFor('a new watch request', () => h.api.requests.slice(r0).some((r) => isWatch(r.path)));
    await waitFor('one watch open', () => h.api.openWatches === 1);
    assert.equal(stats(a).pathRestarts, 1);
    assert.equal(stats(a).idleRestarts, 0);
    // An edit by hand arrives through the new stream; the repair (a PATCH) and the degraded labels go out on new connections.
    const cur = h.api.store.get('nodes', '', 'n1');
    assert.ok(cur?.metadata);
    delete (cur.metadata.labels as Record<string, string>)[LABEL_LINK_STATE];
    h.api.seed('nodes', cur);
    await waitFor('label repaired through the new watch', () => h.node('n1').labels[LABEL_LINK_STATE] === 'healthy');
    a.emit('degraded', 1);
    await waitFor('degraded', () => h.node('n1').labels[LABEL_LINK_STATE] === 'degraded');
    await settle(h.api);
    const after = h.api.requests.slice(r0);
    t.diagnostic(
      `${client}: connections before ${before.size}; after the failover ${after.length} requests on ${new Set(after.map((r) => r.conn)).size} connection(s)`,
    );
    assert.deepEqual(
      after.filter((r) => before.has(r.conn)).map((r) => `${r.method} ${r.path} on connection ${r.conn}`),
      [],
      'no request after the failover on a connection opened before it',
    );
  });

test('a pass backing off after failures on the old path runs at once after a failover (the backoff starts over on the new path)', async (t) => {
  const { h, a } = await healthyAgent(t, { resyncSeconds: 3600 });
  // The old path dies: every request is answered 503 (as a dead uplink times out), and the backoff grows.
  h.api.faults = [{ status: 503 }];
  a.emit('down', 0);
  await settle(h.api);
  for (let i = 0; i < 6; i++) {
    h.clock.advance(60_000);
    await settle(h.api);
  }
  assert.notEqual(h.node('n1').labels[LABEL_LINK_STATE], 'down', 'precondition: the label could not be written');
  const gate = (a.details().api ?? {}) as { failures?: number };
  t.diagnostic(`before the failover: ${JSON.stringify(gate)}`);
  // The new path works; the clock stands still, so only the failover can make the pass run now.
  h.api.faults = [];
  a.ctx.bus.emit('active', 'lte');
  const r1 = h.api.requests.length;
  await waitFor('down label written over the new path without waiting out the backoff', () => h.node('n1').labels[LABEL_LINK_STATE] === 'down').catch((e) => {
    throw new Error(
      `${(e as Error).message}; requests since: ${JSON.stringify(h.api.requests.slice(r1))}; ${JSON.stringify(a.details().api)} ${JSON.stringify(a.details().watch)}`,
    );
  });
});

test('a request hanging on the old path when the failover comes: its timeout neither re-opens the backoff nor holds the pass back', async (t) => {
  const { h, a } = await healthyAgent(t, { resyncSeconds: 3600 }); // requestTimeoutMs 1000 (real time)
  // The uplink dies under a write: the PATCH is on the wire and never answered.
  h.api.faults = [{ method: 'PATCH', hang: true }];
  a.emit('degraded', 1);
  await waitFor('the PATCH hangs', () => h.api.requests.some((r) => r.method === 'PATCH' && r.status === 0));
  // The failover: the new path works. The clock stands still, so no backoff window or retry timer could ever end.
  h.api.faults = [];
  a.ctx.bus.emit('active', 'lte');
  await waitFor('degraded label written over the new path after the old request timed out', () => h.node('n1').labels[LABEL_LINK_STATE] === 'degraded');
  const api = a.details().api as { reachable?: boolean; failures?: number };
  t.diagnostic(`after: ${JSON.stringify(api)}`);
  assert.equal(api.failures, 0, 'the old path timeout is not counted against the new path');
  assert.notEqual(api.reachable, false);
});
