/** API outages: every request path honours one full-jitter backoff; requests are counted at the server (503s) and at the client (dead API). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { settle, startHarness, type Agent, type Harness } from '../../support/k8s-harness.ts';
import { LABEL_LINK_STATE } from '../../../agent/k8s/types.ts';
import { waitFor } from '../../support/k8s-harness.ts';

/** Simulated outage length and step (one link snapshot per step, as the link component emits every ~5 s). */
const OUTAGE_MS = 10 * 60_000;
const STEP_MS = 5_000;
/** The harness pins jitter at 0.5 and maxBackoffMs 30 s: waits 0.5, 1, 2, 4, 8, then 15 s → 5 + ceil((600 − 15.5)/15) = 44 requests. */
const EXPECTED_MAX = 46;

/** Requests the agent sent while the test stepped through the outage, counted per simulated minute. */
async function stepOutage(h: Harness, a: Agent, count: () => number): Promise<number[]> {
  const perMinute: number[] = [];
  let before = count();
  for (let t = STEP_MS; t <= OUTAGE_MS; t += STEP_MS) {
    h.clock.advance(STEP_MS);
    a.emit('down', 0.2);
    await new Promise((r) => setTimeout(r, 10));
    if (t % 60_000 === 0) {
      const now = count();
      perMinute.push(now - before);
      before = now;
    }
  }
  return perMinute;
}

function sum(xs: number[]): number {
  return xs.reduce((x, y) => x + y, 0);
}

for (const client of ['lean', 'client-node'] as const)
  test(`${client}: 503s for 10 minutes: requests follow the backoff (≤ 5/min once capped), then the desired state lands within the cap`, async (t) => {
    const h = await startHarness(['n1']);
    t.after(() => h.close());
    const a = await h.agent('n1', { client, tiers: { down: { cordon: true } } });
    a.emit('healthy');
    await waitFor('healthy', () => h.node('n1').labels[LABEL_LINK_STATE] === 'healthy');
    await settle(h.api);
    const r0 = h.api.requests.length;
    h.api.faults = [{ status: 503 }];
    const perMinute = await stepOutage(h, a, () => h.api.requests.length - r0);
    const total = sum(perMinute);
    t.diagnostic(`${client} 503 outage: ${total} requests in 10 min, per minute ${perMinute.join(' ')}`);
    assert.ok(total <= EXPECTED_MAX, `at most ${EXPECTED_MAX} requests in 10 min, got ${total}`);
    assert.ok(total >= 30, `still probing the API, got ${total}`);
    for (const n of perMinute.slice(1)) assert.ok(n <= 5, `once capped ≤ 5 requests per minute: ${perMinute.join(' ')}`);
    const d = a.details();
    assert.equal((d.api as { reachable: boolean }).reachable, false);
    // The page shows what will be applied, from the latest snapshot, not the state of the last successful pass.
    assert.equal((d.desired as { state: string; cordoned: boolean }).state, 'down');
    assert.equal((d.desired as { cordoned: boolean }).cordoned, true);
    assert.ok((d.pending as string[]).includes('cordon'), String(d.pending));
    assert.match(await a.ctx.metrics.metrics(), /linkward_k8s_api_up 0/);
    assert.equal(a.component.status().state, 'degraded');
    // The API answers again: within one capped wait (30 s) the node carries the desired state.
    h.api.faults = [];
    for (let s = 0; s < 31 && !h.node('n1').unschedulable; s++) {
      h.clock.advance(1_000);
      await new Promise((r) => setTimeout(r, 15));
    }
    await settle(h.api);
    assert.equal(h.node('n1').labels[LABEL_LINK_STATE], 'down');
    assert.equal(h.node('n1').unschedulable, true);
    assert.match(await a.ctx.metrics.metrics(), /linkward_k8s_api_up 1/);
    assert.equal((a.details().api as { reachable: boolean }).reachable, true);
  });

for (const client of ['lean', 'client-node'] as const)
  test(`${client}: dead API (connection refused) for 10 minutes: the same bound, counted by the client metric`, async (t) => {
    const h = await startHarness(['n1']);
    t.after(() => h.close());
    const a = await h.agent('n1', { client });
    a.emit('healthy');
    await waitFor('healthy', () => h.node('n1').labels[LABEL_LINK_STATE] === 'healthy');
    await settle(h.api);
    const failed = async (): Promise<number> =>
      sum(
        [...(await a.ctx.metrics.metrics()).matchAll(/linkward_k8s_api_requests_total\{verb="\w+",result="LW_K8S_UNAVAILABLE"\} (\d+)/g)].map((m) =>
          Number(m[1]),
        ),
      );
    await h.api.goOffline();
    let sent = 0;
    const perMinute = await stepOutage(h, a, () => sent);
    void perMinute;
    sent = await failed();
    t.diagnostic(`${client} dead API: ${sent} requests in 10 min`);
    assert.ok(sent <= EXPECTED_MAX && sent >= 30, `requests in 10 min: ${sent}`);
    await h.api.start();
    for (let s = 0; s < 31 && h.node('n1').labels[LABEL_LINK_STATE] !== 'down'; s++) {
      h.clock.advance(1_000);
      await new Promise((r) => setTimeout(r, 15));
    }
    assert.equal(h.node('n1').labels[LABEL_LINK_STATE], 'down');
  });

test('a drain blocked by a PDB during a 10-minute outage: eviction retries go through the same backoff', async (t) => {
  const { seedPdb, seedPod } = await import('../../support/kube-apiserver/fixtures.ts');
  const h = await startHarness(['n1']);
  t.after(() => h.close());
  seedPod(h.api, 'default', 'db-1', 'n1', { labels: { app: 'db' }, owner: { kind: 'ReplicaSet', name: 'db' } });
  seedPdb(h.api, 'default', 'db', { app: 'db' }, 1);
  const a = await h.agent('n1', { tiers: { down: { drain: true } }, drain: { timeoutSeconds: 3600, retrySeconds: 5 } });
  a.emit('down', 0.2);
  await waitFor('draining', () => h.api.requests.some((r) => r.path.endsWith('/db-1/eviction') && r.status === 429));
  await settle(h.api);
  const r0 = h.api.requests.length;
  h.api.faults = [{ status: 503 }];
  const perMinute = await stepOutage(h, a, () => h.api.requests.length - r0);
  const total = sum(perMinute);
  const evictions = h.api.requests.slice(r0).filter((r) => r.path.endsWith('/eviction')).length;
  t.diagnostic(`drain + outage: ${total} requests in 10 min (${evictions} evictions), per minute ${perMinute.join(' ')}`);
  assert.ok(total <= EXPECTED_MAX, `at most ${EXPECTED_MAX}, got ${total}`);
  assert.equal((a.details().drain as { running: boolean }).running, true, 'the drain waits, it does not give up');
});
