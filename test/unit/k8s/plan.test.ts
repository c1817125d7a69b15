/** Unit tests of the pure node-decoration core: desired state, tiers, ownership matrix, heartbeat, release. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conditionMessage, desiredDecorations, fmt, wantsRestrictive } from '../../../agent/k8s/desired.ts';
import { planNode, planRelease } from '../../../agent/k8s/plan.ts';
import { readOwnership } from '../../../agent/k8s/ownership.ts';
import { ANNOTATION_OWNED, LABEL_LINK_STATE, TAINT_KEY, type NodeView } from '../../../agent/k8s/types.ts';
import type { LinkHealth } from '../../../agent/core/types.ts';
import { applyPlan, cfg, nodeView, snap, T0 } from './helpers.ts';

function step(n: NodeView, state: LinkHealth, c = cfg(), nowMs = T0, fleetGranted = true): { n: NodeView; plan: ReturnType<typeof planNode> } {
  const d = desiredDecorations({
    snapshot: snap(state, 3.1, state === 'healthy' ? [] : ['down=3.1Mbps<5', 'rtt_p95=412ms>250']),
    cfg: c,
    node: n,
    nowMs,
    fleetGranted,
    unknownSinceMs: null,
  });
  const plan = planNode(n, d, c, nowMs);
  return { n: applyPlan(n, plan), plan };
}

test('tiers in order: healthy → degraded → down → healthy', () => {
  let { n, plan } = step(nodeView(), 'healthy');
  assert.equal(n.labels[LABEL_LINK_STATE], 'healthy');
  assert.equal(n.labels['linkward.io/uplink'], 'wan0');
  assert.equal(n.labels['linkward.io/bandwidth-class'], '1m-5m');
  assert.deepEqual(n.taints, []);
  assert.equal(n.conditions[0]?.status, 'False');
  assert.ok(plan.nodePatch);
  ({ n } = step(n, 'degraded'));
  assert.equal(n.labels[LABEL_LINK_STATE], 'degraded');
  assert.deepEqual(n.taints, [{ key: TAINT_KEY, value: 'degraded', effect: 'PreferNoSchedule' }]);
  assert.equal(n.conditions[0]?.status, 'True');
  assert.match(n.conditions[0]?.message ?? '', /down=3.1Mbps<5 rtt_p95=412ms>250/);
  assert.match(n.conditions[0]?.message ?? '', /measured down=3.1Mbps up=9.5Mbps rtt_p95=412ms loss=4% jitter=12ms/);
  ({ n } = step(n, 'down', cfg({ tiers: { down: { cordon: true } } })));
  assert.deepEqual(n.taints, [{ key: TAINT_KEY, value: 'down', effect: 'NoSchedule' }]);
  assert.equal(n.unschedulable, true);
  assert.deepEqual(readOwnership(n), {
    labels: ['linkward.io/bandwidth-class', 'linkward.io/link-state', 'linkward.io/uplink'],
    taints: [{ key: TAINT_KEY, effect: 'NoSchedule' }],
    cordon: true,
  });
  ({ n } = step(n, 'healthy'));
  assert.deepEqual(n.taints, []);
  assert.equal(n.unschedulable, false);
  assert.equal(n.conditions[0]?.reason, 'LinkHealthy');
});

test('steady state writes nothing until the condition heartbeat is due', () => {
  const c = cfg();
  let { n } = step(nodeView(), 'degraded', c, T0);
  const again = step(n, 'degraded', c, T0 + 60_000);
  assert.equal(again.plan.nodePatch, null);
  assert.equal(again.plan.statusPatch, null);
  const hb = step(n, 'degraded', c, T0 + 300_000);
  assert.equal(hb.plan.nodePatch, null);
  assert.ok(hb.plan.statusPatch, 'heartbeat after 5 min');
  n = hb.n;
  assert.equal(n.conditions[0]?.lastTransitionTime, new Date(T0).toISOString().replace('.000Z', 'Z'));
});

test('a heartbeat written while the clock ran a day ahead is due at once after NTP steps the clock back', () => {
  const c = cfg();
  const DAY = 86_400_000;
  let { n } = step(nodeView(), 'degraded', c, T0 + DAY); // written with the clock a day ahead
  const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
  const back = step(n, 'degraded', c, T0 + 60_000); // real time, a minute later
  assert.ok(back.plan.statusPatch, 'a heartbeat in the future is rewritten');
  n = back.n;
  assert.equal(n.conditions[0]?.lastHeartbeatTime, iso(T0 + 60_000));
  assert.equal(n.conditions[0]?.lastTransitionTime, iso(T0 + 60_000), 'a transition in the future becomes now');
  assert.equal(step(n, 'degraded', c, T0 + 120_000).plan.statusPatch, null, 'then the usual 5 min heartbeat');
  assert.ok(step(n, 'degraded', c, T0 + 360_000).plan.statusPatch);
});

test('pre-cordoned node stays cordoned after recovery', () => {
  const c = cfg({ tiers: { down: { cordon: true } } });
  let { n } = step(nodeView({ unschedulable: true }), 'down', c);
  assert.equal(readOwnership(n).cordon, false);
  ({ n } = step(n, 'healthy', c));
  assert.equal(n.unschedulable, true, 'admin cordon kept');
});

test('admin taint with the same key is never removed; ours is removed', () => {
  const admin = { key: TAINT_KEY, value: 'maintenance', effect: 'NoSchedule' as const };
  let { n } = step(nodeView({ taints: [admin] }), 'down');
  assert.deepEqual(n.taints, [admin], 'no duplicate, admin keeps ownership');
  assert.deepEqual(readOwnership(n).taints, []);
  ({ n } = step(n, 'degraded'));
  assert.deepEqual(n.taints, [admin, { key: TAINT_KEY, value: 'degraded', effect: 'PreferNoSchedule' }]);
  ({ n } = step(n, 'healthy'));
  assert.deepEqual(n.taints, [admin]);
});

test('label removed by hand is repaired; foreign labels untouched', () => {
  let { n } = step(nodeView({ labels: { team: 'a' } }), 'degraded');
  delete n.labels[LABEL_LINK_STATE];
  const r = step(n, 'degraded');
  assert.deepEqual(r.plan.nodePatch?.metadata, { resourceVersion: n.resourceVersion, labels: { [LABEL_LINK_STATE]: 'degraded' } });
  n = r.n;
  assert.equal(n.labels.team, 'a');
});

test('fleet cap refused: NoSchedule falls back to PreferNoSchedule, no cordon, labels still written', () => {
  const c = cfg({ tiers: { down: { cordon: true } } });
  const d = desiredDecorations({ snapshot: snap('down'), cfg: c, node: nodeView(), nowMs: T0, fleetGranted: false, unknownSinceMs: null });
  assert.deepEqual(d.capped, ['taint NoSchedule', 'cordon']);
  assert.equal(d.taint?.effect, 'PreferNoSchedule');
  assert.equal(d.cordon, false);
  assert.equal(d.labels[LABEL_LINK_STATE], 'down');
  assert.equal(wantsRestrictive('down', c), true);
  assert.equal(wantsRestrictive('degraded', c), false);
});

test('unknown: no decorations, hold then remove scheduling decorations after unknownHoldSeconds', () => {
  const c = cfg();
  let { n } = step(nodeView(), 'down', c);
  const hold = desiredDecorations({ snapshot: snap('unknown'), cfg: c, node: n, nowMs: T0 + 1000, fleetGranted: true, unknownSinceMs: T0 });
  assert.equal(hold.hold, true);
  const p1 = planNode(n, hold, c, T0 + 1000);
  assert.equal(p1.nodePatch, null);
  assert.equal(p1.statusPatch, null);
  const late = desiredDecorations({ snapshot: snap('unknown'), cfg: c, node: n, nowMs: T0 + 601_000, fleetGranted: true, unknownSinceMs: T0 });
  n = applyPlan(n, planNode(n, late, c, T0 + 601_000));
  assert.deepEqual(n.taints, []);
  assert.equal(n.labels[LABEL_LINK_STATE], undefined);
  assert.equal(n.conditions[0]?.status, 'Unknown');
  const fromNull = desiredDecorations({ snapshot: null, cfg: c, node: nodeView(), nowMs: T0, fleetGranted: true, unknownSinceMs: null });
  assert.equal(fromNull.hold, true);
});

test('release removes every linkward decoration but not admin ones', () => {
  // (owned labels and the well-known linkward labels go even when the annotation is lost)
  const admin = { key: TAINT_KEY, value: 'x', effect: 'NoExecute' as const };
  let { n } = step(nodeView({ taints: [admin], labels: { team: 'a' } }), 'down', cfg({ tiers: { down: { cordon: true } } }));
  n.labels['linkward.io/fleet'] = 'edge'; // an admin's label in our prefix: not ours to remove
  n = applyPlan(n, planRelease(n, 'NetworkDegraded'));
  assert.deepEqual(n.labels, { team: 'a', 'linkward.io/fleet': 'edge' });
  assert.deepEqual(n.taints, [admin]);
  assert.equal(n.unschedulable, false);
  assert.equal(n.annotations[ANNOTATION_OWNED], undefined);
  assert.deepEqual(n.conditions, []);
  assert.deepEqual(planRelease(n, 'NetworkDegraded').changes, []);
});

test('corrupt ownership annotation owns nothing (nothing foreign is removed)', () => {
  const n = nodeView({ annotations: { [ANNOTATION_OWNED]: '{bad' }, taints: [{ key: TAINT_KEY, value: 'down', effect: 'NoSchedule' }], unschedulable: true });
  const after = step(n, 'healthy').n;
  assert.equal(after.unschedulable, true);
  assert.equal(after.taints.length, 1);
});

test('condition message: a small nonzero reading keeps one significant digit (0.05 Mbps is not "0Mbps")', () => {
  const view = {
    name: 'wan0',
    health: 'down',
    sinceMs: 0,
    reasons: ['down=0.05Mbps<1'],
    latest: { atMs: 0, downloadMbps: 0.05, uploadMbps: 0.004, rttP95Ms: 0.3, lossPercent: 0, jitterMs: 12.4 },
  } as never;
  const msg = conditionMessage('down', 'wan0', view);
  assert.match(msg, /down=0\.05Mbps up=0\.004Mbps rtt_p95=0\.3ms loss=0% jitter=12ms/);
  assert.equal(fmt(42.26, 'Mbps'), '42.3Mbps');
  assert.equal(fmt(0, 'Mbps'), '0Mbps');
  assert.equal(fmt(Number.NaN, 'Mbps'), null);
});
