/** Admin overrides against the test API server: the pause annotation (with expiry) and a manual uncordon/untaint during a linkward cordon. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { settle, startHarness, waitFor, type Harness } from '../../support/k8s-harness.ts';
import { ANNOTATION_PAUSED } from '../../../agent/k8s/overrides.ts';
import { LABEL_LINK_STATE, TAINT_KEY } from '../../../agent/k8s/types.ts';
import { readOwnership } from '../../../agent/k8s/ownership.ts';

const RESYNC_MS = 60_000;

/** Changes the Node in the store as kubectl would (a write by someone else). */
function edit(h: Harness, fn: (n: { metadata: Record<string, unknown>; spec: Record<string, unknown> }) => void): void {
  const n = h.api.store.get('nodes', '', 'n1') as unknown as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
  n.spec ??= {};
  fn(n);
  h.api.seed('nodes', n as never);
}

async function resync(h: Harness, times = 1): Promise<void> {
  for (let i = 0; i < times; i++) {
    h.clock.advance(RESYNC_MS);
    await settle(h.api);
  }
}

const reasons = (h: Harness) => h.api.store.list('events', 'default').map((e) => e.reason);
const holders = (h: Harness) =>
  (h.api.store.get('leases.coordination.k8s.io', 'kube-system', 'linkward-fleet')?.metadata?.annotations as Record<string, string> | undefined)?.[
    'linkward.io/holders'
  ];

for (const client of ['lean', 'client-node'] as const)
  test(`${client}: pause annotation with expiry: restrictive decorations off, labels/condition/Events on, hold released; back after expiry`, async (t) => {
    const h = await startHarness(['n1']);
    t.after(() => h.close());
    const a = await h.agent('n1', { client, tiers: { down: { cordon: true } } });
    a.emit('down', 0.2);
    await waitFor('cordoned', () => h.node('n1').unschedulable);
    await settle(h.api);
    const until = new Date(h.clock.nowMs() + 5 * 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
    edit(h, (n) => ((n.metadata.annotations as Record<string, string>)[ANNOTATION_PAUSED] = until));
    await resync(h);
    let n = h.node('n1');
    assert.deepEqual([n.unschedulable, n.taints.length], [false, 0], 'restrictive decorations removed');
    assert.equal(n.labels[LABEL_LINK_STATE], 'down', 'labels still reported');
    assert.equal(n.conditions.find((c) => c.type === 'NetworkDegraded')?.reason, 'LinkDown');
    assert.equal(holders(h), '[]', 'fleet hold given back');
    assert.ok(reasons(h).includes('LinkwardPaused'), reasons(h).join());
    const d = a.details();
    assert.equal((d.adminPause as { untilMs: number }).untilMs, Date.parse(until));
    assert.match(String(d.message), /link down; paused by annotation linkward\.io\/paused until/);
    // A link change while paused: the condition and an Event follow it, still nothing restrictive.
    a.emit('degraded', 3);
    await waitFor('degraded label', () => h.node('n1').labels[LABEL_LINK_STATE] === 'degraded');
    a.emit('down', 0.2);
    await waitFor('down label', () => h.node('n1').labels[LABEL_LINK_STATE] === 'down');
    await settle(h.api);
    n = h.node('n1');
    assert.deepEqual([n.unschedulable, n.taints.length], [false, 0]);
    // The expiry passes: linkward acts again.
    await resync(h, 5);
    n = h.node('n1');
    assert.deepEqual([n.unschedulable, n.taints.map((x) => x.effect)], [true, ['NoSchedule']], 'back after expiry');
    assert.ok(reasons(h).includes('LinkwardResumed'), reasons(h).join());
    assert.equal(a.details().adminPause, null);
  });

test('an admin uncordon (and untaint) during a linkward cordon is respected until the next transition, recorded and said', async (t) => {
  const h = await startHarness(['n1']);
  t.after(() => h.close());
  const a = await h.agent('n1', { tiers: { down: { cordon: true } } });
  a.emit('down', 0.2);
  await waitFor('cordoned', () => h.node('n1').unschedulable);
  await settle(h.api);
  // kubectl uncordon n1: linkward does not fight it.
  edit(h, (n) => delete n.spec.unschedulable);
  await resync(h, 3);
  let n = h.node('n1');
  assert.equal(n.unschedulable, false, 'not re-cordoned');
  assert.deepEqual(
    n.taints.map((x) => x.effect),
    ['NoSchedule'],
    "the taint stays linkward's",
  );
  assert.deepEqual(readOwnership(n).yielded, { state: 'down', items: ['cordon'] });
  assert.deepEqual(reasons(h).filter((r) => r === 'LinkwardOverridden').length, 1, 'one Event');
  assert.deepEqual(a.details().yielded, ['cordon']);
  // kubectl taint n1 linkward.io/link- : also respected; the hold is given back once nothing restrictive is left.
  edit(h, (n) => delete n.spec.taints);
  await resync(h, 2);
  n = h.node('n1');
  assert.deepEqual([n.unschedulable, n.taints.length], [false, 0]);
  assert.deepEqual(readOwnership(n).yielded?.items, ['cordon', `taint ${TAINT_KEY}:NoSchedule`]);
  assert.equal(holders(h), '[]');
  // Snapshots keep coming: still not re-applied.
  for (let i = 0; i < 6; i++) {
    h.clock.advance(5_000);
    a.emit('down', 0.2);
  }
  await settle(h.api);
  assert.equal(h.node('n1').unschedulable, false);
  // Next transition (recovery, then a new down episode): linkward acts again.
  a.emit('healthy', 50);
  await waitFor('healthy', () => h.node('n1').labels[LABEL_LINK_STATE] === 'healthy');
  await settle(h.api);
  assert.equal(readOwnership(h.node('n1')).yielded, undefined, 'record dropped at the transition');
  a.emit('down', 0.2);
  await waitFor('cordoned again', () => h.node('n1').unschedulable && h.node('n1').taints.some((x) => x.effect === 'NoSchedule'));
});
