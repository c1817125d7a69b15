/** Prometheus metrics of the node-actions package (registered on the agent's registry only). */
import { Counter, Gauge, type Registry } from 'prom-client';

export interface K8sMetrics {
  apiRequests: Counter<'verb' | 'result'>;
  reconcileErrors: Counter<'code'>;
  decorations: Counter<'kind'>;
  leaseHeld: Gauge;
  evictions: Counter<'result'>;
  drainSkipped: Counter<'reason'>;
  eventsDropped: Counter<'reason'>;
  eventsPending: Gauge;
  apiUp: Gauge;
  apiLastSuccess: Gauge;
}

export function createK8sMetrics(registry: Registry): K8sMetrics {
  return {
    apiRequests: new Counter({
      name: 'linkward_k8s_api_requests_total',
      help: 'Kubernetes API requests by verb and result (ok or error code).',
      labelNames: ['verb', 'result'],
      registers: [registry],
    }),
    reconcileErrors: new Counter({
      name: 'linkward_k8s_reconcile_errors_total',
      help: 'Failed node reconciles by error code.',
      labelNames: ['code'],
      registers: [registry],
    }),
    decorations: new Counter({
      name: 'linkward_k8s_decorations_applied_total',
      help: 'Node decoration changes applied (label, taint, cordon, condition, event).',
      labelNames: ['kind'],
      registers: [registry],
    }),
    leaseHeld: new Gauge({
      name: 'linkward_k8s_fleet_lease_held',
      help: '1 while this node holds a fleet hold for restrictive decorations.',
      registers: [registry],
    }),
    evictions: new Counter({
      name: 'linkward_k8s_evictions_total',
      help: 'Pod evictions during drain by result (ok, blocked, error).',
      labelNames: ['result'],
      registers: [registry],
    }),
    drainSkipped: new Counter({
      name: 'linkward_k8s_drain_skipped_pods_total',
      help: 'Pods a drain left on the node, by reason (mirror, daemonset, local_storage = emptyDir volumes while kubernetes.drain.deleteEmptyDirData is false, unmanaged).',
      labelNames: ['reason'],
      registers: [registry],
    }),
    eventsDropped: new Counter({
      name: 'linkward_k8s_events_dropped_total',
      help: 'Transition Events given up, by reason (overflow = oldest dropped from the full retry queue of 50, expired = older than 1 h, rejected = the API refused it for good).',
      labelNames: ['reason'],
      registers: [registry],
    }),
    apiUp: new Gauge({
      name: 'linkward_k8s_api_up',
      help: '1 while the Kubernetes API answers, 0 after a request it did not answer (refused, 5xx, timeout); absent before the first request.',
      registers: [registry],
    }),
    apiLastSuccess: new Gauge({
      name: 'linkward_k8s_api_last_success_timestamp_seconds',
      help: 'Unix time of the last request the Kubernetes API answered.',
      registers: [registry],
    }),
    eventsPending: new Gauge({
      name: 'linkward_k8s_events_pending',
      help: 'Transition Events waiting for a retry after a failed POST.',
      registers: [registry],
    }),
  };
}
