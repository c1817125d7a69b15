/** Which pods a drain evicts: kubectl drain's pod filters, minus every override that needs --force. */
import type { PodView } from './api.ts';

/** Why a pod is left on the node; stable values (the `reason` label of linkward_k8s_drain_skipped_pods_total). */
export const SKIP_KINDS = ['mirror', 'daemonset', 'local_storage', 'unmanaged'] as const;
export type SkipKind = (typeof SKIP_KINDS)[number];

export interface PodSelectOptions {
  /** kubectl's --delete-emptydir-data: evict pods with emptyDir volumes (their emptyDir data is deleted with them). */
  deleteEmptyDirData: boolean;
}

export interface PodSkip {
  kind: SkipKind;
  /** Human reason, shown after the pod in DrainResult.skipped. */
  reason: string;
}

/** The config key that lets a drain evict pods with emptyDir volumes (named in reasons and logs). */
export const EMPTYDIR_CONFIG_KEY = 'kubernetes.drain.deleteEmptyDirData';

/** Succeeded or Failed: the pod runs nothing any more (kubectl: `corev1.PodSucceeded || corev1.PodFailed`). */
export function isFinished(p: PodView): boolean {
  return p.phase === 'Succeeded' || p.phase === 'Failed';
}

/**
 * kubectl's local-storage filter (k8s.io/kubectl/pkg/drain/filters.go, hasLocalStorage + localStorageFilter):
 * a pod has local storage when any volume is an emptyDir (any medium; hostPath and every other kind do not count),
 * and a finished pod (Succeeded/Failed) never needs --delete-emptydir-data.
 */
export function needsEmptyDirOverride(p: PodView): boolean {
  return p.emptyDirVolumes.length > 0 && !isFinished(p);
}

/**
 * Why `p` stays on the node, or null when the drain evicts it, as kubectl drain decides without --force
 * (k8s.io/kubectl/pkg/drain/filters.go). Checked in this order (the first match is reported): mirror, DaemonSet,
 * local storage, unmanaged. A finished pod (Succeeded/Failed) passes kubectl's DaemonSet, local-storage and
 * unreplicated filters ("any finished pod can be removed"), so it is evicted like any other pod, even a finished
 * DaemonSet pod; only a mirror pod stays whatever its phase (the API server cannot delete it).
 */
export function podSkip(p: PodView, o: PodSelectOptions): PodSkip | null {
  if (p.mirror) return { kind: 'mirror', reason: 'mirror pod' };
  const finished = isFinished(p);
  if (!finished && p.ownerKinds.includes('DaemonSet')) return { kind: 'daemonset', reason: 'DaemonSet pod' };
  if (needsEmptyDirOverride(p) && !o.deleteEmptyDirData) {
    return { kind: 'local_storage', reason: `local storage: emptyDir ${p.emptyDirVolumes.join(', ')}; ${EMPTYDIR_CONFIG_KEY} is false` };
  }
  if (!finished && p.ownerKinds.length === 0) return { kind: 'unmanaged', reason: 'unmanaged pod (not forced)' };
  return null;
}
