/** Opt-in drain with kubectl semantics: Eviction API only, back off on 429, skip mirror pods and unfinished DaemonSet/unmanaged/(unless allowed) emptyDir pods, bounded time, never force. */
import { isLwError, messageOf } from '../base/errors.ts';
import type { Clock } from '../base/clock.ts';
import type { Logger } from '../base/log.ts';
import type { NodeApi, PodView } from './api.ts';
import { EMPTYDIR_CONFIG_KEY, needsEmptyDirOverride, podSkip, type SkipKind } from './drain-select.ts';
import { K8sErrorCode } from './errors.ts';

export interface DrainOptions {
  timeoutMs: number;
  /** Wait after a 429 before retrying that pod (kubectl: 5 s). */
  retryMs: number;
  /** Evict pods with emptyDir volumes too (kubectl --delete-emptydir-data); default false: they stay. */
  deleteEmptyDirData?: boolean;
  clock: Clock;
  log: Logger;
  signal?: AbortSignal;
  onEviction?: (result: 'ok' | 'blocked' | 'error') => void;
  /** Called once per pod the drain leaves on the node, with why. */
  onSkip?: (kind: SkipKind) => void;
}

export interface DrainResult {
  evicted: string[];
  /** Pods deliberately left, as `ns/name (reason)`: DaemonSet, mirror, local storage (emptyDir), unmanaged (finished pods are evicted, as kubectl does). */
  skipped: string[];
  /** Pods left because they use emptyDir volumes and deleteEmptyDirData is false (also listed in `skipped`). */
  emptyDirLeft: string[];
  /** Evicted pods that had emptyDir volumes (deleteEmptyDirData true): their emptyDir data is gone. */
  emptyDirEvicted: string[];
  /** Pods the drain wanted to evict but did not (blocked by a PDB, API errors, or the drain stopped first). */
  remaining: string[];
  /** Evicted pods not yet seen gone when the drain ended (still terminating, or the drain stopped before it could look). */
  unconfirmed: string[];
  /** Why it ended: `done` (nothing left to evict), `timeout` (time budget spent), `stopped` (aborted: link recovered or agent stopping). */
  ended: 'done' | 'timeout' | 'stopped';
  /** True only when the time budget ran out with pods remaining or unconfirmed. */
  timedOut: boolean;
}

const id = (p: PodView): string => `${p.namespace}/${p.name}`;

/** Evicts the node's pods within `timeoutMs`; never deletes a pod directly. */
export async function drainNode(api: NodeApi, node: string, o: DrainOptions): Promise<DrainResult> {
  const deadline = o.clock.monoMs() + o.timeoutMs;
  const pods = await api.listPodsOnNode(node);
  const skipped: string[] = [];
  const emptyDirLeft: string[] = [];
  let pending: PodView[] = [];
  for (const p of pods) {
    const skip = podSkip(p, { deleteEmptyDirData: o.deleteEmptyDirData === true });
    if (!skip) {
      pending.push(p);
      continue;
    }
    skipped.push(`${id(p)} (${skip.reason})`);
    if (skip.kind === 'local_storage') emptyDirLeft.push(id(p));
    o.onSkip?.(skip.kind);
  }
  const withEmptyDir = new Set(pending.filter(needsEmptyDirOverride).map(id));
  if (emptyDirLeft.length > 0) {
    o.log.warn(
      { pods: emptyDirLeft },
      `pods with emptyDir volumes stay on the node: evicting them would delete their emptyDir data (${EMPTYDIR_CONFIG_KEY} is false)`,
    );
  }
  if (withEmptyDir.size > 0) {
    o.log.warn({ pods: [...withEmptyDir] }, `evicting pods with emptyDir volumes; their emptyDir data is deleted (${EMPTYDIR_CONFIG_KEY} is true)`);
  }
  const evicted: string[] = [];
  // Bounded: each round either evicts, or waits retryMs; the deadline ends it.
  while (pending.length > 0 && o.clock.monoMs() < deadline && !o.signal?.aborted) {
    const blocked: PodView[] = [];
    for (const p of pending) {
      try {
        await api.evictPod(p.namespace, p.name);
        evicted.push(id(p));
        o.onEviction?.('ok');
      } catch (e) {
        if (isLwError(e, K8sErrorCode.NOT_FOUND)) continue;
        if (isLwError(e, K8sErrorCode.TOO_MANY_REQUESTS)) o.onEviction?.('blocked');
        else {
          o.onEviction?.('error');
          o.log.warn({ pod: id(p), err: messageOf(e) }, 'eviction failed; will retry');
        }
        blocked.push(p);
      }
    }
    pending = blocked;
    if (pending.length > 0) {
      const wait = Math.min(o.retryMs, Math.max(0, deadline - o.clock.monoMs()));
      if (wait <= 0) break;
      await o.clock.sleep(wait, o.signal).catch(() => undefined);
    }
  }
  // Wait (bounded) until evicted pods are gone, as kubectl does; always look at least once.
  let waiting = [...evicted];
  for (let first = true; waiting.length > 0 && (first || o.clock.monoMs() < deadline) && !o.signal?.aborted; first = false) {
    const still: string[] = [];
    for (const full of waiting) {
      const [ns = '', name = ''] = full.split('/');
      // An API error counts as "still there": drain reports what it could not confirm.
      if ((await api.getPod(ns, name).catch(() => 'unknown')) !== null) still.push(full);
    }
    waiting = still;
    if (waiting.length > 0 && o.clock.monoMs() < deadline) await o.clock.sleep(Math.min(o.retryMs, 1000), o.signal).catch(() => undefined);
  }
  // Evicted pods are counted as evicted, whatever happened later; only pods never evicted are "remaining".
  const remaining = pending.map(id);
  const left = remaining.length + waiting.length > 0;
  const ended: DrainResult['ended'] = o.signal?.aborted ? 'stopped' : left ? 'timeout' : 'done';
  return {
    evicted,
    skipped,
    emptyDirLeft,
    emptyDirEvicted: evicted.filter((x) => withEmptyDir.has(x)),
    remaining,
    unconfirmed: waiting,
    ended,
    timedOut: ended === 'timeout',
  };
}
