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

/** One event of a watch on the own Node. */
export type NodeWatchEvent = { type: 'ADDED' | 'MODIFIED' | 'DELETED'; node: NodeView } | { type: 'BOOKMARK'; resourceVersion: string };

export interface NodeWatchOptions {
  /** Watch changes after this resourceVersion (from a GET or the last event/bookmark). */
  resourceVersion: string;
  /** Asked of the server as timeoutSeconds: the stream ends normally then. */
  timeoutSeconds: number;
  onEvent: (e: NodeWatchEvent) => void;
  /** Called once the server answered 200 (the stream is open): proves the API reachable long before the stream ends. */
  onOpen?: () => void;
  /** Aborting ends the watch; the promise then resolves. */
  signal: AbortSignal;
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
   * Lists the one Node by field selector (metadata.name): the Node (null if absent) and the *list's* resourceVersion,
   * which a watch can start from even when the Node's own resourceVersion is older than the server's history.
   */
  listOwnNode(name: string): Promise<{ node: NodeView | null; resourceVersion: string }>;
  /**
   * Watches one Node (fieldSelector metadata.name, allowWatchBookmarks). Resolves when the stream ends (server
   * timeout or `signal`); rejects with LW_K8S_GONE when the resourceVersion is too old (re-read, then watch again),
   * or another K8sErrorCode when the stream could not be opened or broke.
   */
  watchNode(name: string, o: NodeWatchOptions): Promise<void>;
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
  /**
   * The active uplink changed: later requests open fresh connections, requests in flight finish on the old ones within
   * a grace. A keep-alive connection keeps its source address, and linkward's per-uplink rule keeps that address on the
   * old uplink, so without this the client would go on talking through the uplink it just left.
   */
  reconnect?(): void;
  close?(): void;
}
