/** Admin overrides, pure: the pause annotation's values, and decorations removed by hand during an episode. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ANNOTATION_PAUSED, pauseOf, yieldedOf } from '../../../agent/k8s/overrides.ts';
import { desiredDecorations } from '../../../agent/k8s/desired.ts';
import { planNode } from '../../../agent/k8s/plan.ts';
import { readOwnership, serializeOwnership } from '../../../agent/k8s/ownership.ts';
import { ANNOTATION_OWNED, TAINT_KEY } from '../../../agent/k8s/types.ts';
import { cfg, nodeView, snap, T0 } from './helpers.ts';

const paused = (v: string) => nodeView({ annotations: { [ANNOTATION_PAUSED]: v } });

test('pauseOf: empty/true = no end, RFC 3339 = until then, past or false = not paused, anything else = paused and flagged', () => {
  assert.equal(pauseOf(nodeView(), T0), null);
  assert.deepEqual(pauseOf(paused(''), T0), { untilMs: null, value: '', invalid: false });
  assert.deepEqual(pauseOf(paused('true'), T0), { untilMs: null, value: 'true', invalid: false });
  assert.equal(pauseOf(paused('false'), T0), null);
  const later = new Date(T0 + 3_600_000).toISOString();
  assert.deepEqual(pauseOf(paused(later), T0), { untilMs: T0 + 3_600_000, value: later, invalid: false });
  assert.equal(pauseOf(paused(later), T0 + 3_600_000), null, 'expired');
  assert.deepEqual(pauseOf(paused('2026-13-99'), T0), { untilMs: null, value: '2026-13-99', invalid: true });
  assert.equal(pauseOf(paused('1'), T0)?.invalid, true, 'Date.parse would accept "1"; we do not');
});

test('paused: labels and condition stay, no taint, cordon or drain; the plan removes what linkward owns', () => {
  const c = cfg({ tiers: { down: { cordon: true, drain: true } } });
  const owned = serializeOwnership({ labels: ['linkward.io/link-state'], taints: [{ key: TAINT_KEY, effect: 'NoSchedule' }], cordon: true });
  const n = nodeView({
    unschedulable: true,
    taints: [{ key: TAINT_KEY, value: 'down', effect: 'NoSchedule' }],
    annotations: { [ANNOTATION_OWNED]: owned, [ANNOTATION_PAUSED]: 'true' },
  });
  const d = desiredDecorations({ snapshot: snap('down', 0.2), cfg: c, node: n, nowMs: T0, fleetGranted: true, unknownSinceMs: null });
  assert.deepEqual([d.taint, d.cordon, d.drain, d.labels['linkward.io/link-state'], d.condition?.reason], [null, false, false, 'down', 'LinkDown']);
  assert.match(d.notes?.[0] ?? '', /paused by annotation linkward.io\/paused until the annotation is removed/);
  const p = planNode(n, d, c, T0);
  assert.deepEqual(
    p.changes.filter((x) => !x.startsWith('label') && !x.startsWith('condition')),
    [`remove taint ${TAINT_KEY}:NoSchedule`, 'uncordon'],
  );
});

test('a cordon or taint removed by hand is left off for the rest of the episode and recorded; a new episode re-applies it', () => {
  const c = cfg({ tiers: { down: { cordon: true } } });
  const owned = serializeOwnership({ labels: [], taints: [{ key: TAINT_KEY, effect: 'NoSchedule' }], cordon: true });
  // Someone ran kubectl uncordon and removed the taint; the ownership annotation still says linkward set them.
  const n = nodeView({ annotations: { [ANNOTATION_OWNED]: owned } });
  const want = { cordon: true, taint: { key: TAINT_KEY, value: 'down', effect: 'NoSchedule' as const } };
  assert.deepEqual(yieldedOf(n, 'down', want), { items: ['cordon', `taint ${TAINT_KEY}:NoSchedule`], fresh: ['cordon', `taint ${TAINT_KEY}:NoSchedule`] });
  const d = desiredDecorations({ snapshot: snap('down', 0.2), cfg: c, node: n, nowMs: T0, fleetGranted: true, unknownSinceMs: null });
  assert.deepEqual([d.cordon, d.taint, d.yielded], [false, null, ['cordon', `taint ${TAINT_KEY}:NoSchedule`]]);
  const p = planNode(n, d, c, T0);
  assert.ok(!p.changes.includes('cordon') && !p.changes.some((x) => x.startsWith('taint')), p.changes.join());
  assert.deepEqual(p.owned.yielded, { state: 'down', items: ['cordon', `taint ${TAINT_KEY}:NoSchedule`] });
  // Next pass: recorded, no longer fresh, still left off.
  const after = nodeView({ annotations: { [ANNOTATION_OWNED]: serializeOwnership(p.owned) } });
  assert.deepEqual(readOwnership(after).yielded?.items, ['cordon', `taint ${TAINT_KEY}:NoSchedule`]);
  const d2 = desiredDecorations({ snapshot: snap('down', 0.2), cfg: c, node: after, nowMs: T0, fleetGranted: true, unknownSinceMs: null });
  assert.deepEqual([d2.cordon, d2.taint, d2.yieldedFresh], [false, null, []]);
  // Another link state (a transition): the record no longer applies.
  const d3 = desiredDecorations({ snapshot: snap('degraded', 3), cfg: c, node: after, nowMs: T0, fleetGranted: true, unknownSinceMs: null });
  assert.equal(d3.yielded, undefined);
  assert.equal(planNode(after, d3, c, T0).owned.yielded, undefined, 'the record is dropped');
});
