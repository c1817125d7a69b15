/** One reconcile pass: read the Node, decide (desired → plan), apply minimal patches with 409 re-read, event per transition (retried). */
import { isLwError } from '../base/errors.ts';
import type { Logger } from '../base/log.ts';
import type { LinkSnapshot } from '../core/types.ts';
import type { KubernetesConfig } from '../config/k8s.ts';
import type { NodeApi } from './api.ts';
import { desiredDecorations, holdsNeeded, wantsRestrictive } from './desired.ts';
import { K8sErrorCode } from './errors.ts';
import type { EventOutbox } from './event-outbox.ts';
import type { FleetSemaphore } from './fleet.ts';
import { planNode } from './plan.ts';
import type { Desired, NodeView, Plan } from './types.ts';

/** 409 storms: re-read and re-plan this many times per pass before giving up until the next retry. */
export const MAX_CONFLICT_RETRIES = 5;

export interface ReconcileInput {
  snapshot: LinkSnapshot | null;
  unknownSinceMs: number | null;
  nowMs: number;
}

export interface ReconcileDeps {
  api: NodeApi;
  cfg: KubernetesConfig;
  nodeName: string;
  log: Logger;
  fleet: FleetSemaphore;
  /** Transition Events; the queue lives across passes so a failed POST is retried by a later one. */
  events: EventOutbox;
  onApplied?: (kind: string) => void;
  /** The Node to plan from: a cached copy (the watch) unless `fresh` (after a 409); default: a GET. */
  readNode?: (fresh: boolean) => Promise<NodeView>;
  /** Called with the Node a write returned (keeps a cache current before the watch event arrives). */
  onWritten?: (node: NodeView) => void;
}

export interface ReconcileResult {
  node: NodeView;
  desired: Desired;
  /** The plan that was applied (or, in dry-run, would have been). */
  plan: Plan;
  conflicts: number;
  fleetReason?: string;
}

/** Fleet decision for this pass; an API failure keeps whatever hold we believe we have. */
async function fleetGrant(deps: ReconcileDeps, inp: ReconcileInput): Promise<{ granted: boolean; reason?: string }> {
  const state = inp.snapshot?.node ?? 'unknown';
  // While the state is unknown the decorations are held as they are, so a hold we have is renewed too.
  const keep = state === 'unknown' && deps.fleet.held();
  if (!wantsRestrictive(state, deps.cfg) && !keep) return { granted: false };
  try {
    return await deps.fleet.acquire(deps.cfg.dryRun);
  } catch (e) {
    deps.log.warn({ err: (e as Error).message }, 'fleet lease check failed; keeping the current hold state');
    return { granted: deps.fleet.held(), reason: 'fleet lease unavailable' };
  }
}

/** Reads, plans and applies. Throws LwError (K8sErrorCode) on API failure; the caller backs off and retries. */
export async function reconcileOnce(deps: ReconcileDeps, inp: ReconcileInput): Promise<ReconcileResult> {
  const { api, cfg, nodeName, log } = deps;
  let grant: { granted: boolean; reason?: string } | null = null;
  let conflicts = 0;
  for (;;) {
    const node = await (deps.readNode ? deps.readNode(conflicts > 0) : api.getNode(nodeName));
    // Ask the fleet only once the Node is known to exist (a wrong node name must not take a hold), and only when the
    // decorations need it after the admin's pause and hand removals (else a paused node would hold a slot for nothing).
    if (!grant) {
      const probe = desiredDecorations({ snapshot: inp.snapshot, cfg, node, nowMs: inp.nowMs, fleetGranted: true, unknownSinceMs: inp.unknownSinceMs });
      const needs = probe.hold ? deps.fleet.held() : holdsNeeded(probe);
      // Not needed: nothing restrictive will be applied, so there is nothing to cap (granted = no fallback taint).
      grant = needs ? await fleetGrant(deps, inp) : { granted: true };
    }
    const desired = desiredDecorations({
      snapshot: inp.snapshot,
      cfg,
      node,
      nowMs: inp.nowMs,
      fleetGranted: grant.granted,
      unknownSinceMs: inp.unknownSinceMs,
    });
    const plan = planNode(node, desired, cfg, inp.nowMs);
    const result = { node, desired, plan, conflicts, ...(grant.reason ? { fleetReason: grant.reason } : {}) };
    if (cfg.dryRun) {
      if (plan.nodePatch || plan.statusPatch)
        log.info({ dryRun: true, nodePatch: plan.nodePatch, statusPatch: plan.statusPatch, changes: plan.changes }, 'dry run: would patch the node');
      return result;
    }
    let current = node;
    try {
      if (plan.nodePatch) {
        current = await api.patchNode(nodeName, plan.nodePatch);
        deps.onWritten?.(current);
      }
    } catch (e) {
      if (isLwError(e, K8sErrorCode.CONFLICT) && conflicts < MAX_CONFLICT_RETRIES) {
        conflicts++;
        log.debug({ conflicts }, 'node changed under us (409); re-reading');
        continue;
      }
      throw e;
    }
    if (plan.statusPatch) {
      current = await api.patchNodeStatus(nodeName, plan.statusPatch);
      deps.onWritten?.(current);
    }
    if (plan.changes.length) {
      log.info({ changes: plan.changes, state: desired.state }, 'node decorations updated');
      for (const c of plan.changes) deps.onApplied?.(c.replace(/^remove /, '').split(' ')[0] ?? 'other');
    }
    // Queued here, sent by the caller once everything else in the pass is done (a failed POST must not cut it short).
    queueEvent(deps, node, desired, inp.nowMs);
    return { ...result, node: current };
  }
}

/**
 * One Event per transition: when this pass changes the condition's reason (restart-safe: the reason lives on the
 * Node). It is queued and sent by the outbox; a failed POST never fails the reconcile and is retried by later passes.
 */
function queueEvent(deps: ReconcileDeps, before: NodeView, desired: Desired, nowMs: number): void {
  if (!deps.cfg.events) return;
  const node = { name: before.name, ...(before.uid ? { uid: before.uid } : {}) };
  for (const item of desired.yieldedFresh ?? []) {
    deps.events.add({
      namespace: deps.cfg.eventNamespace,
      reason: 'LinkwardOverridden',
      message: `${item} was removed by someone else while the link is ${desired.state}; linkward leaves it off until the link state changes`,
      type: 'Normal',
      node,
      nowMs,
    });
  }
  if (!desired.condition) return;
  const prev = before.conditions.find((c) => c.type === desired.condition?.type);
  if (prev?.reason === desired.condition.reason) return;
  deps.events.add({
    namespace: deps.cfg.eventNamespace,
    reason: desired.condition.reason ?? 'LinkChanged',
    message: desired.condition.message ?? '',
    type: desired.state === 'healthy' ? 'Normal' : 'Warning',
    node: { name: before.name, ...(before.uid ? { uid: before.uid } : {}) },
    nowMs,
  });
}
