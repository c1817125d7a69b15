/** Value types of the node-actions package: the Node as linkward sees it, desired decorations, ownership, plans. */
import type { LinkHealth } from '../core/types.ts';

/** Prefix of every label, annotation and taint key linkward writes. */
export const LW_PREFIX = 'linkward.io/';
export const LABEL_LINK_STATE = 'linkward.io/link-state';
export const LABEL_UPLINK = 'linkward.io/uplink';
export const LABEL_BANDWIDTH = 'linkward.io/bandwidth-class';
/** The one taint key linkward uses; its value is the link state, its effect comes from the tier. */
export const TAINT_KEY = 'linkward.io/link';
/** Annotation recording exactly what linkward applied (JSON of `Ownership`). */
export const ANNOTATION_OWNED = 'linkward.io/owned';

export type TaintEffect = 'PreferNoSchedule' | 'NoSchedule' | 'NoExecute';

export interface Taint {
  key: string;
  value?: string;
  effect: TaintEffect;
  timeAdded?: string;
}

export interface NodeCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
}

/** The parts of a Node linkward reads (adapters convert API objects to this). */
export interface NodeView {
  name: string;
  uid?: string;
  resourceVersion: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  taints: Taint[];
  unschedulable: boolean;
  conditions: NodeCondition[];
}

/** What linkward applied, as recorded in the ownership annotation. */
export interface Ownership {
  labels: string[];
  taints: { key: string; effect: TaintEffect }[];
  cordon: boolean;
  /** Decorations someone removed by hand during the link state `state`: not re-applied until the state changes. */
  yielded?: { state: string; items: string[] };
}

/** Desired decorations for one node. `hold` = keep scheduling decorations as they are (unknown state). */
export interface Desired {
  state: LinkHealth;
  labels: Record<string, string>;
  taint: Taint | null;
  cordon: boolean;
  drain: boolean;
  condition: NodeCondition | null;
  hold: boolean;
  /** Restrictive actions wanted but refused by the fleet cap (for status and logs). */
  capped: string[];
  /** Why something the tier asks for is not done (admin cordon, pause, ...), for status. */
  notes?: string[];
  /** The admin pause in force (linkward.io/paused): nothing restrictive. */
  paused?: { untilMs: number | null; value: string; invalid: boolean };
  /** Decorations left off for this link state because someone removed them by hand; `yieldedFresh` = noticed now. */
  yielded?: string[];
  yieldedFresh?: string[];
}

/** The minimal writes that take the node from its current state to the desired one. */
export interface Plan {
  /** JSON merge patch for the Node object (carries resourceVersion as a precondition), or null. */
  nodePatch: Record<string, unknown> | null;
  /** Strategic merge patch for nodes/status (the condition), or null. */
  statusPatch: Record<string, unknown> | null;
  /** Ownership after the plan is applied. */
  owned: Ownership;
  /** Human-readable list of changes (logs, dry-run, `node show`). */
  changes: string[];
}
