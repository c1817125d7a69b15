/** Drain pod selection (kubectl drain's filters, never forced), the emptyDir rule, volume conversion, the drain summary. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PodView } from '../../../agent/k8s/api.ts';
import { toPod } from '../../../agent/k8s/convert.ts';
import { summarizeDrain } from '../../../agent/k8s/drain-episode.ts';
import { needsEmptyDirOverride, podSkip, SKIP_KINDS } from '../../../agent/k8s/drain-select.ts';
import { KubernetesConfigSchema } from '../../../agent/config/k8s.ts';

function pod(over: Partial<PodView> = {}): PodView {
  return { namespace: 'default', name: 'p', ownerKinds: ['ReplicaSet'], mirror: false, phase: 'Running', emptyDirVolumes: [], ...over };
}

const RS = ['ReplicaSet'];
/** One emptyDir volume (hostPath and other kinds never reach PodView.emptyDirVolumes: see the toPod test). */
const ED = ['cache'];

/** [case, pod, kind when deleteEmptyDirData is false, kind when true] (null = evicted). */
const CASES: [string, PodView, string | null, string | null][] = [
  ['ReplicaSet pod, no volumes', pod(), null, null],
  ['ReplicaSet pod with an emptyDir', pod({ emptyDirVolumes: ED }), 'local_storage', null],
  ['ReplicaSet pod with two emptyDirs', pod({ emptyDirVolumes: ['a', 'b'] }), 'local_storage', null],
  ['Pending pod with an emptyDir (not finished)', pod({ phase: 'Pending', emptyDirVolumes: ED }), 'local_storage', null],
  ['pod without a phase with an emptyDir', { namespace: 'default', name: 'p', ownerKinds: RS, mirror: false, emptyDirVolumes: ED }, 'local_storage', null],
  // Finished pods pass kubectl's DaemonSet, local-storage and unreplicated filters ("any finished pod can be removed").
  ['Succeeded pod with an emptyDir', pod({ phase: 'Succeeded', emptyDirVolumes: ED }), null, null],
  ['Failed pod with an emptyDir', pod({ phase: 'Failed', emptyDirVolumes: ED }), null, null],
  ['Succeeded unmanaged pod', pod({ phase: 'Succeeded', ownerKinds: [] }), null, null],
  ['Failed unmanaged pod', pod({ phase: 'Failed', ownerKinds: [] }), null, null],
  ['Failed unmanaged pod with an emptyDir', pod({ phase: 'Failed', ownerKinds: [], emptyDirVolumes: ED }), null, null],
  ['Succeeded Job pod', pod({ phase: 'Succeeded', ownerKinds: ['Job'] }), null, null],
  ['Failed DaemonSet pod', pod({ phase: 'Failed', ownerKinds: ['DaemonSet'] }), null, null],
  ['Succeeded mirror pod (mirror pods always stay)', pod({ phase: 'Succeeded', ownerKinds: [], mirror: true }), 'mirror', 'mirror'],
  ['Unknown-phase unmanaged pod (not finished)', pod({ phase: 'Unknown', ownerKinds: [] }), 'unmanaged', 'unmanaged'],
  ['DaemonSet pod with an emptyDir', pod({ ownerKinds: ['DaemonSet'], emptyDirVolumes: ED }), 'daemonset', 'daemonset'],
  ['mirror pod with an emptyDir', pod({ ownerKinds: [], mirror: true, emptyDirVolumes: ED }), 'mirror', 'mirror'],
  ['unmanaged pod', pod({ ownerKinds: [] }), 'unmanaged', 'unmanaged'],
  // kubectl checks local storage before "no controller": the first reason is reported, the pod stays either way.
  ['unmanaged pod with an emptyDir', pod({ ownerKinds: [], emptyDirVolumes: ED }), 'local_storage', 'unmanaged'],
  ['StatefulSet pod with an emptyDir', pod({ ownerKinds: ['StatefulSet'], emptyDirVolumes: ED }), 'local_storage', null],
  ['Job pod, running, with an emptyDir', pod({ ownerKinds: ['Job'], emptyDirVolumes: ED }), 'local_storage', null],
];

test('pod selection: kubectl drain filters without --force, emptyDir per deleteEmptyDirData', () => {
  for (const [name, p, whenFalse, whenTrue] of CASES) {
    assert.equal(podSkip(p, { deleteEmptyDirData: false })?.kind ?? null, whenFalse, `${name} (deleteEmptyDirData false)`);
    assert.equal(podSkip(p, { deleteEmptyDirData: true })?.kind ?? null, whenTrue, `${name} (deleteEmptyDirData true)`);
    const kind = podSkip(p, { deleteEmptyDirData: false })?.kind;
    if (kind) assert.ok((SKIP_KINDS as readonly string[]).includes(kind), `${kind} is a metric label value`);
  }
  assert.ok(!(SKIP_KINDS as readonly string[]).includes('finished'), 'finished pods are evicted, never a skip reason');
});

test('needsEmptyDirOverride: any emptyDir on a pod that is not finished (kubectl hasLocalStorage + finished exemption)', () => {
  assert.equal(needsEmptyDirOverride(pod({ emptyDirVolumes: ED })), true);
  assert.equal(needsEmptyDirOverride(pod()), false);
  assert.equal(needsEmptyDirOverride(pod({ phase: 'Succeeded', emptyDirVolumes: ED })), false);
  assert.equal(needsEmptyDirOverride(pod({ phase: 'Failed', emptyDirVolumes: ED })), false);
  assert.equal(needsEmptyDirOverride(pod({ phase: 'Unknown', emptyDirVolumes: ED })), true);
});

test('the local-storage reason names the volumes and the config key', () => {
  const s = podSkip(pod({ emptyDirVolumes: ['cache', 'tmp'] }), { deleteEmptyDirData: false });
  assert.equal(s?.reason, 'local storage: emptyDir cache, tmp; kubernetes.drain.deleteEmptyDirData is false');
});

test('toPod: emptyDir volumes by presence (any medium), not hostPath or other kinds', () => {
  const v = toPod({
    metadata: { namespace: 'ns', name: 'x', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'r', uid: 'u', controller: true }] },
    spec: {
      containers: [{ name: 'c' }],
      volumes: [
        { name: 'cache', emptyDir: {} },
        { name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
        { name: 'host', hostPath: { path: '/var/log' } },
        { name: 'cfg', configMap: { name: 'c' } },
        { name: 'data', persistentVolumeClaim: { claimName: 'd' } },
        { name: 'eph', ephemeral: { volumeClaimTemplate: { spec: {} } } },
      ],
    },
    status: { phase: 'Running' },
  } as never);
  assert.deepEqual(v.emptyDirVolumes, ['cache', 'shm']);
  assert.deepEqual(toPod({ metadata: { name: 'y' }, spec: { containers: [] } } as never).emptyDirVolumes, []);
  assert.deepEqual(toPod({ metadata: { name: 'z' } } as never).emptyDirVolumes, [], 'no spec');
});

test('config: deleteEmptyDirData defaults to false (kubectl default) and is described', () => {
  assert.equal(KubernetesConfigSchema.parse({}).drain.deleteEmptyDirData, false);
  assert.equal(KubernetesConfigSchema.parse({ drain: { deleteEmptyDirData: true } }).drain.deleteEmptyDirData, true);
  assert.throws(() => KubernetesConfigSchema.parse({ drain: { deleteEmptyDirData: 'yes' } }));
  const drain = KubernetesConfigSchema.shape.drain.unwrap();
  assert.match(drain.shape.deleteEmptyDirData.description ?? '', /emptyDir data is deleted/);
});

test('summarizeDrain says which pods were left for their emptyDir data and how to change it', () => {
  const left = summarizeDrain({
    evicted: ['default/web'],
    skipped: ['default/cache (local storage: emptyDir c; kubernetes.drain.deleteEmptyDirData is false)'],
    emptyDirLeft: ['default/cache'],
    emptyDirEvicted: [],
    remaining: [],
    unconfirmed: [],
    ended: 'done',
    timedOut: false,
  });
  assert.equal(
    left,
    'drain: 1 evicted; 1 skipped; 0 remaining; 1 left for emptyDir data (default/cache; set kubernetes.drain.deleteEmptyDirData: true to evict them)',
  );
  const gone = summarizeDrain({
    evicted: ['default/web', 'default/cache'],
    skipped: [],
    emptyDirLeft: [],
    emptyDirEvicted: ['default/cache'],
    remaining: [],
    unconfirmed: [],
    ended: 'done',
    timedOut: false,
  });
  assert.equal(gone, 'drain: 2 evicted; 0 skipped; 0 remaining; emptyDir data deleted with default/cache');
  // Stopped because the link recovered: evicted pods stay counted as evicted, nothing claims the budget was spent.
  const stopped = summarizeDrain({
    evicted: ['default/a', 'default/b'],
    skipped: [],
    emptyDirLeft: [],
    emptyDirEvicted: [],
    remaining: ['default/c'],
    unconfirmed: ['default/b'],
    ended: 'stopped',
    timedOut: false,
  });
  assert.equal(
    stopped,
    'drain: 2 evicted (1 not yet seen gone); 0 skipped; 1 remaining (not evicted: drain stopped); stopped early (link recovered or agent stopping)',
  );
  const spent = summarizeDrain({
    evicted: [],
    skipped: [],
    emptyDirLeft: [],
    emptyDirEvicted: [],
    remaining: ['default/db'],
    unconfirmed: [],
    ended: 'timeout',
    timedOut: true,
  });
  assert.equal(spent, 'drain: 0 evicted; 0 skipped; 1 remaining (time budget spent)');
});

test('toPod: only an owner with controller: true makes a pod managed (kubectl drain rule)', () => {
  const owner = (controller?: boolean) => ({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    name: 'r',
    uid: 'u',
    ...(controller === undefined ? {} : { controller }),
  });
  const kinds = (controller?: boolean) => toPod({ metadata: { namespace: 'ns', name: 'x', ownerReferences: [owner(controller)] } }).ownerKinds;
  assert.deepEqual(kinds(true), ['ReplicaSet']);
  assert.deepEqual(kinds(false), []);
  assert.deepEqual(kinds(undefined), [], 'an owner reference without the controller flag is not a controller');
  assert.equal(
    podSkip(toPod({ metadata: { namespace: 'ns', name: 'x', ownerReferences: [owner(undefined)] }, status: { phase: 'Running' } }), {
      deleteEmptyDirData: false,
    })?.kind,
    'unmanaged',
  );
});
