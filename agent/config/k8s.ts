/** Config schema of `kubernetes` (owned by the node-actions package). */
import { z } from 'zod';

/** Condition heartbeat: like node-problem-detector, refresh an unchanged condition at most every 5 min. */
export const DEFAULT_CONDITION_HEARTBEAT_S = 300;
/** Periodic re-read of the Node to repair drift (a label removed by hand); a GET, writes only on drift. */
export const DEFAULT_RESYNC_S = 60;
/**
 * Backoff cap after API failures. Full jitter draws each wait uniformly below the cap, so once capped an agent sends
 * one request per 15 s on average during an outage (10,000 nodes ≈ 670 requests/s at the API server) and retries
 * within 30 s once the API answers.
 */
export const DEFAULT_MAX_BACKOFF_MS = 30_000;
/** Fleet hold TTL (kured's stale-lock lesson): a dead node's hold expires after 10 min. */
export const DEFAULT_LEASE_TTL_S = 600;
/**
 * Margin on top of three renewal retries in the shortest accepted hold TTL: the time between a holder starting its
 * renewal and the others reading it (their read interval, a slow API server, a suspended holder whose wall clock ends
 * its belief early). Holds are judged on each agent's monotonic clock, never against other nodes' wall clocks
 * (fleet-decide.ts `liveHolds`).
 */
export const LEASE_TTL_MARGIN_S = 30;

/**
 * Shortest hold TTL that survives a failing API: the hold is renewed every third of the TTL, and a renewal that fails
 * is retried after at most maxBackoffMs plus one request timeout. Three such slow renewal rounds plus the margin must
 * fit, so one bad renewal (or two) never lets a live hold lapse.
 */
export function minLeaseTtlSeconds(maxBackoffMs: number, requestTimeoutMs: number): number {
  return Math.ceil((3 * (maxBackoffMs + requestTimeoutMs)) / 1000) + LEASE_TTL_MARGIN_S;
}

/** While the link state stays unknown this long, linkward removes its own scheduling decorations. */
export const DEFAULT_UNKNOWN_HOLD_S = 600;

const TaintEffect = z.enum(['none', 'PreferNoSchedule', 'NoSchedule', 'NoExecute']);

const TierSchema = (taint: 'none' | 'PreferNoSchedule' | 'NoSchedule', what: string) =>
  z
    .strictObject({
      taint: TaintEffect.default(taint).describe(
        'Taint effect of the linkward.io/link taint in this tier (none, PreferNoSchedule, NoSchedule, or opt-in NoExecute).',
      ),
      cordon: z.boolean().default(false).describe('Cordon the node (spec.unschedulable) in this tier; subject to the fleet cap.'),
      drain: z.boolean().default(false).describe('Opt-in: evict pods (Eviction API, PDB-aware, never forced); implies cordon; subject to the fleet cap.'),
    })
    .describe(what);

const FleetSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Cap NoSchedule/NoExecute taints, cordon and drain fleet-wide with a coordination.k8s.io Lease.'),
    maxUnavailable: z
      .union([z.number().int().min(0), z.string().regex(/^\d{1,3}%$/, 'must be a count or a percentage like "10%"')])
      .default('10%')
      .describe('Nodes that may hold a restrictive decoration at once: a count, or a percentage of nodes matching nodeSelector (rounded down, at least 1).'),
    nodeSelector: z.string().default('').describe('Label selector of the nodes the percentage counts (empty: all nodes).'),
    leaseNamespace: z.string().min(1).default('kube-system').describe('Namespace of the fleet Lease.'),
    leaseName: z.string().min(1).default('linkward-fleet').describe('Name of the fleet Lease (holders live in its annotation).'),
    leaseTtlSeconds: z
      .number()
      .int()
      .min(30)
      .max(86_400)
      .default(DEFAULT_LEASE_TTL_S)
      .describe(
        'A hold expires unless renewed within this time. Renewed every third of it, on its own timer; must be at least 3 × (maxBackoffMs + requestTimeoutMs) + 30 s.',
      ),
  })
  .describe('Fleet-wide cap on restrictive node actions.');

const DrainSchema = z
  .strictObject({
    timeoutSeconds: z.number().int().min(10).max(3600).default(300).describe('Total time budget of one drain; pods left after it stay (never force-deleted).'),
    retrySeconds: z.number().int().min(1).max(60).default(5).describe('Wait after an eviction answered 429 (PodDisruptionBudget), as kubectl does.'),
    deleteEmptyDirData: z
      .boolean()
      .default(false)
      .describe(
        'Also evict running pods that use emptyDir volumes (kubectl drain --delete-emptydir-data): their emptyDir data is deleted with them and does not follow them to the new node. false: such pods stay on the node and are reported; the rest are evicted. Only emptyDir counts, as in kubectl (hostPath does not).',
      ),
    ifCordonedByOthers: z
      .boolean()
      .default(false)
      .describe(
        'Drain also when someone else (an admin, kured, an upgrade) had already cordoned the node. false: such a node is left as it is; whoever cordoned it owns it.',
      ),
  })
  .describe('Drain behaviour (only used when a tier sets drain: true).');

export const KubernetesConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Decorate this Node (labels, condition, taints) from link state. Off without a cluster.'),
    kubeconfig: z.string().optional().describe('Kubeconfig path; default: in-cluster, then $KUBECONFIG, then /etc/rancher/k3s/k3s.yaml.'),
    dryRun: z.boolean().default(false).describe('Log the patches that would be sent; write nothing.'),
    client: z
      .enum(['auto', 'lean', 'client-node'])
      .default('auto')
      .describe(
        'API client: lean (undici, ~15 MB RSS), client-node (@kubernetes/client-node, ~72 MB RSS; also exec/auth-provider/proxy kubeconfigs), auto = lean unless the kubeconfig needs client-node.',
      ),
    conditionType: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9]{0,62}$/)
      .default('NetworkDegraded')
      .describe('NodeCondition type written (True while degraded or down).'),
    conditionHeartbeatSeconds: z
      .number()
      .int()
      .min(0)
      .default(DEFAULT_CONDITION_HEARTBEAT_S)
      .describe('Rewrite an unchanged condition (fresh values, heartbeat) at most this often; 0 = only on change.'),
    resyncSeconds: z.number().int().min(5).default(DEFAULT_RESYNC_S).describe('Re-read the Node this often and repair drift.'),
    requestTimeoutMs: z.number().int().min(500).default(10_000).describe('Timeout of one API request.'),
    maxBackoffMs: z
      .number()
      .int()
      .min(100)
      .default(DEFAULT_MAX_BACKOFF_MS)
      .describe(
        'Cap of the retry backoff after API errors; each wait is drawn uniformly below min(cap, 1 s·2^(n-1)) (full jitter), at least 200 ms. Applies to every request path.',
      ),
    unknownHoldSeconds: z
      .number()
      .int()
      .min(0)
      .default(DEFAULT_UNKNOWN_HOLD_S)
      .describe('Keep existing decorations this long while the link state is unknown (e.g. after a restart), then remove the scheduling ones.'),
    bandwidthClassesMbps: z
      .array(z.number().positive())
      .default([1, 5, 25, 100])
      .describe('Boundaries (download Mbps, ascending) of the linkward.io/bandwidth-class label buckets.'),
    events: z.boolean().default(true).describe('Create one Event per link-state transition.'),
    eventNamespace: z.string().min(1).default('default').describe('Namespace of the Events (Node events conventionally go to default).'),
    tiers: z
      .strictObject({
        degraded: TierSchema('PreferNoSchedule', 'Actions while the node link is degraded.').prefault({}),
        down: TierSchema('NoSchedule', 'Actions while the node link is down.').prefault({}),
      })
      .describe('What each link state does to the Node (labels and condition are always written).')
      .prefault({}),
    fleet: FleetSchema.prefault({}),
    drain: DrainSchema.prefault({}),
  })
  .superRefine((k, ctx) => {
    const min = minLeaseTtlSeconds(k.maxBackoffMs, k.requestTimeoutMs);
    if (k.fleet.enabled && k.fleet.leaseTtlSeconds < min) {
      ctx.addIssue({
        code: 'custom',
        path: ['fleet', 'leaseTtlSeconds'],
        message: `${k.fleet.leaseTtlSeconds} s is too short: the hold is renewed every third of it and a failed renewal is retried within maxBackoffMs + requestTimeoutMs = ${(k.maxBackoffMs + k.requestTimeoutMs) / 1000} s; use at least ${min} s (3 × ${(k.maxBackoffMs + k.requestTimeoutMs) / 1000} s + ${LEASE_TTL_MARGIN_S} s margin), or lower kubernetes.maxBackoffMs`,
      });
    }
  })
  .describe('Kubernetes node actions.');

export type KubernetesConfig = z.infer<typeof KubernetesConfigSchema>;
export type TierConfig = KubernetesConfig['tiers']['down'];
