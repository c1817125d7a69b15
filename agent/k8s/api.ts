/** The NodeApi port: every Kubernetes call the node-actions package makes (one adapter: client-node). */
import type { NodeView } from './types.ts';

/** A Lease as the fleet semaphore uses it. */
export interface LeaseView {
  name: string;
  namespace: string;
  resourceVersion: string;
  annotations: Record<string, string>;
  holderIdentity?: string;
  leaseDurationSeconds?: number;
}

/** The parts of a Pod drain needs. */
export interface PodView {
  namespace: string;
  name: string;
  uid?: string;
  ownerKinds: string[];
  mirror: boolean;
  phase?: string;
  /** Names of the pod's emptyDir volumes (kubectl drain's "local storage": their data is deleted with the pod). */
  emptyDirVolumes: string[];
}

export interface EventInput {
  namespace: string;
  reason: string;
  message: string;
  type: 'Normal' | 'Warning';
  node: { name: string; uid?: string };
  /** Time of the transition; the Event's timestamps (kept when the Event is retried later). */
  nowMs: number;
  /** metadata.name; fixed before the first attempt so a retry after a lost answer gets 409, not a duplicate. */
  name?: string;
}

/**
 * Every method rejects with an LwError carrying a K8sErrorCode (CONFLICT, NOT_FOUND, TOO_MANY_REQUESTS, FORBIDDEN,
 * UNAVAILABLE, TIMEOUT, REJECTED); callers branch on the code.
 */
export interface NodeApi {
  /** Where the cluster credentials came from (for status). */
  readonly source: string;
  getNode(name: string): Promise<NodeView>;
  /**
   * Nodes matching a label selector (fleet size, holder liveness, who is unavailable). Served from the API server's
   * watch cache (resourceVersion=0), as informers list: cheaper for the server, at most a moment stale.
   */
  listNodes(labelSelector: string): Promise<NodeView[]>;
  /** JSON merge patch of the Node (a `metadata.resourceVersion` in the body is a precondition). */
  patchNode(name: string, mergePatch: Record<string, unknown>): Promise<NodeView>;
  /** Strategic merge patch of nodes/status (conditions merge by type). */
  patchNodeStatus(name: string, patch: Record<string, unknown>): Promise<NodeView>;
  createEvent(ev: EventInput): Promise<void>;
  getLease(namespace: string, name: string): Promise<LeaseView | null>;
  createLease(lease: Omit<LeaseView, 'resourceVersion'>): Promise<LeaseView>;
  /** Replaces the Lease; 409 (CONFLICT) when `resourceVersion` is stale. */
  replaceLease(lease: LeaseView): Promise<LeaseView>;
  listPodsOnNode(node: string): Promise<PodView[]>;
  /** Eviction API (policy/v1); 429 (TOO_MANY_REQUESTS) when a PodDisruptionBudget forbids it now. */
  evictPod(namespace: string, name: string): Promise<void>;
  getPod(namespace: string, name: string): Promise<PodView | null>;
  close?(): void;
}
