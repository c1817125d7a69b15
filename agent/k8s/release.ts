/** Removes every linkward decoration from a Node (used by `linkward node release` and POST /v1/node/release). */
import { isLwError } from '../base/errors.ts';
import type { NodeApi } from './api.ts';
import { K8sErrorCode } from './errors.ts';
import { planRelease } from './plan.ts';

/** Conflicts while releasing: re-read and re-plan this many times. */
const MAX_RELEASE_CONFLICTS = 5;

export interface ReleaseResult {
  changes: string[];
  dryRun: boolean;
}

/** Reads the node, plans the removal (owned taints/cordon, linkward.io labels, annotation, condition) and applies it. */
export async function releaseNode(api: NodeApi, nodeName: string, conditionType: string, dryRun = false): Promise<ReleaseResult> {
  for (let attempt = 0; ; attempt++) {
    const node = await api.getNode(nodeName);
    const plan = planRelease(node, conditionType);
    if (dryRun) return { changes: plan.changes, dryRun };
    try {
      if (plan.nodePatch) await api.patchNode(nodeName, plan.nodePatch);
    } catch (e) {
      if (isLwError(e, K8sErrorCode.CONFLICT) && attempt < MAX_RELEASE_CONFLICTS) continue;
      throw e;
    }
    if (plan.statusPatch) await api.patchNodeStatus(nodeName, plan.statusPatch);
    return { changes: plan.changes, dryRun };
  }
}
