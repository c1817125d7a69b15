/** Transition Events whose POST fails are retried by later reconcile passes: exactly once, bounded by the 1 h TTL. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { settle, startHarness, waitFor, type Agent, type Harness } from '../../support/k8s-harness.ts';
import { EVENT_TTL_MS } from '../../../agent/k8s/event-queue.ts';

const EVENTS_PATH = /^\/api\/v1\/namespaces\/default\/events$/;
/** kubernetes.resyncSeconds default: the next reconcile tick when nothing else happens. */
const RESYNC_MS = 60_000;

const degradedEvents = (h: Harness) => h.api.store.list('events', 'default').filter((e) => e.reason === 'LinkDegraded');
const eventPosts = (h: Harness) => h.api.requests.filter((r) => r.method === 'POST' && EVENTS_PATH.test(r.path)).map((r) => r.status);
const metric = async (a: Agent, name: string) => a.ctx.metrics.getSingleMetricAsString(name);

/** Emits `degraded` and waits until the Node shows it (the Event is attempted in the same pass). */
async function degrade(h: Harness, a: Agent): Promise<number> {
  const at = h.clock.nowMs();
  a.emit('degraded', 3);
  await waitFor('degraded condition', () => h.node('n1').conditions.some((c) => c.type === 'NetworkDegraded' && c.status === 'True'));
  await settle(h.api);
  return at;
}

/** One resync tick of simulated time, then wait for the API traffic it causes. */
async function tick(h: Harness): Promise<void> {
  h.clock.advance(RESYNC_MS);
  await settle(h.api);
}

for (const client of ['lean', 'client-node'] as const)
  test(`${client}: Event POSTs fail (503), the reconcile still succeeds; once they work the Event arrives exactly once`, async (t) => {
    const h = await startHarness(['n1']);
    t.after(() => h.close());
    h.api.faults.push({ method: 'POST', path: EVENTS_PATH, status: 503 });
    const a = await h.agent('n1', { client });
    const at = await degrade(h, a);
    assert.deepEqual(degradedEvents(h), [], 'not stored while POSTs fail');
    assert.ok(eventPosts(h).length >= 1 && eventPosts(h).every((s) => s === 503), String(eventPosts(h)));
    assert.equal(a.component.status().state, 'ok', 'a failed Event never fails the reconcile');
    assert.equal(a.details().eventsPending, 1);
    assert.match(await metric(a, 'linkward_k8s_events_pending'), /linkward_k8s_events_pending 1/);
    await tick(h);
    assert.deepEqual(degradedEvents(h), [], 'still failing: still queued');

    h.api.faults.length = 0; // the API accepts Events again
    await tick(h);
    await waitFor('Event delivered', () => degradedEvents(h).length === 1);
    await tick(h);
    await tick(h);
    const evs = degradedEvents(h);
    assert.equal(evs.length, 1, 'exactly once');
    assert.equal(eventPosts(h).filter((s) => s === 201).length, 1);
    assert.equal(
      new Date(String((evs[0] as { firstTimestamp?: string }).firstTimestamp)).getTime(),
      at,
      'stamped with the transition time, not the retry time',
    );
    assert.equal(a.details().eventsPending, 0);
    assert.match(await metric(a, 'linkward_k8s_events_pending'), /linkward_k8s_events_pending 0/);
    assert.match(await metric(a, 'linkward_k8s_decorations_applied_total'), /kind="event"\} 1/);
    assert.doesNotMatch(await metric(a, 'linkward_k8s_events_dropped_total'), /\} [1-9]/);
  });

test('lost answer: the POST landed but the agent saw 503; the retry (same name) gets 409 and counts as sent, no duplicate', async (t) => {
  const h = await startHarness(['n1']);
  t.after(() => h.close());
  h.api.faults.push({ method: 'POST', path: EVENTS_PATH, status: 503, afterApply: true, times: 1 });
  const a = await h.agent('n1');
  await degrade(h, a);
  assert.equal(degradedEvents(h).length, 1, 'the server stored it');
  assert.equal(a.details().eventsPending, 1, 'the agent could not tell');
  await tick(h);
  await waitFor('queue empty', () => a.details().eventsPending === 0);
  assert.deepEqual(eventPosts(h), [503, 409]);
  assert.equal(degradedEvents(h).length, 1, 'exactly once');
  assert.match(await metric(a, 'linkward_k8s_decorations_applied_total'), /kind="event"\} 1/);
});

test('an Event still failing after 1 h (the Kubernetes event TTL) is dropped and counted', async (t) => {
  const h = await startHarness(['n1']);
  t.after(() => h.close());
  h.api.faults.push({ method: 'POST', path: EVENTS_PATH, status: 503 });
  const a = await h.agent('n1');
  await degrade(h, a);
  assert.equal(a.details().eventsPending, 1);
  h.clock.advance(EVENT_TTL_MS);
  await settle(h.api);
  await waitFor('expired', () => a.details().eventsPending === 0);
  h.api.faults.length = 0;
  await tick(h);
  assert.deepEqual(degradedEvents(h), [], 'never posted late');
  assert.match(await metric(a, 'linkward_k8s_events_dropped_total'), /linkward_k8s_events_dropped_total\{reason="expired"\} 1/);
});
