/** Prometheus metrics of the route component (registered on ctx.metrics only). */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface RouteMetrics {
  switches: Counter<'reason' | 'result'>;
  rollbacks: Counter;
  applyErrors: Counter;
  confirmSeconds: Histogram;
  armSeconds: Histogram;
  rollbackCauses: Counter<'cause'>;
  helperRestarts: Counter;
  conntrackFlushes: Counter<'result'>;
  conntrackDeleted: Counter;
  setActive(name: string | null): void;
}

/** Returns the metric already registered under `name` (a restarted component in the same process), else creates it. */
function once<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function registerRouteMetrics(registry: Registry, uplinks: readonly string[]): RouteMetrics {
  const registers = [registry];
  const switches = once(
    registry,
    'linkward_route_switches_total',
    () =>
      new Counter({
        name: 'linkward_route_switches_total',
        help: 'Default-route switches by reason and result (confirmed, rolled-back, applied).',
        labelNames: ['reason', 'result'] as const,
        registers,
      }),
  );
  const rollbacks = once(
    registry,
    'linkward_route_rollbacks_total',
    () =>
      new Counter({
        name: 'linkward_route_rollbacks_total',
        help: 'Switches rolled back because the new default route was not confirmed in time (or the agent died mid-switch).',
        registers,
      }),
  );
  const applyErrors = once(
    registry,
    'linkward_route_apply_errors_total',
    () => new Counter({ name: 'linkward_route_apply_errors_total', help: 'ip commands that failed while applying the desired routes.', registers }),
  );
  const confirmSeconds = once(
    registry,
    'linkward_route_confirm_duration_seconds',
    () =>
      new Histogram({
        name: 'linkward_route_confirm_duration_seconds',
        help: 'Time from applying a switch to its confirm (or rollback) decision.',
        buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
        registers,
      }),
  );
  const armSeconds = once(
    registry,
    'linkward_route_revert_arm_duration_seconds',
    () =>
      new Histogram({
        name: 'linkward_route_revert_arm_duration_seconds',
        help: 'Time to arm the revert helper before a switch (plan written, helper acknowledged); the goal is under 0.1 s.',
        buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2],
        registers,
      }),
  );
  const rollbackCauses = once(
    registry,
    'linkward_route_rollback_causes_total',
    () =>
      new Counter({
        name: 'linkward_route_rollback_causes_total',
        help: 'Rolled-back switches by cause: unreachable, timeout, late (confirmed after the deadline: agent starved), helper-fired, apply-failed.',
        labelNames: ['cause'] as const,
        registers,
      }),
  );
  const helperRestarts = once(
    registry,
    'linkward_route_revert_helper_restarts_total',
    () =>
      new Counter({
        name: 'linkward_route_revert_helper_restarts_total',
        help: 'Times the pre-started revert helper was found dead and restarted.',
        registers,
      }),
  );
  const conntrackFlushes = once(
    registry,
    'linkward_route_conntrack_flushes_total',
    () =>
      new Counter({
        name: 'linkward_route_conntrack_flushes_total',
        help: "Conntrack flushes of the abandoned uplink's address after a switch, by result (ok, failed, missing = conntrack not installed).",
        labelNames: ['result'] as const,
        registers,
      }),
  );
  for (const result of ['ok', 'failed', 'missing']) conntrackFlushes.inc({ result }, 0);
  const conntrackDeleted = once(
    registry,
    'linkward_route_conntrack_deleted_entries_total',
    () =>
      new Counter({
        name: 'linkward_route_conntrack_deleted_entries_total',
        help: 'Conntrack entries deleted by those flushes (as reported by conntrack).',
        registers,
      }),
  );
  const active = once(
    registry,
    'linkward_route_active_info',
    () => new Gauge({ name: 'linkward_route_active_info', help: 'Active uplink (1) and the others (0).', labelNames: ['uplink'] as const, registers }),
  );
  for (const u of uplinks) active.set({ uplink: u }, 0);
  return {
    switches,
    rollbacks,
    applyErrors,
    confirmSeconds,
    armSeconds,
    rollbackCauses,
    helperRestarts,
    conntrackFlushes,
    conntrackDeleted,
    setActive(name) {
      for (const u of uplinks) active.set({ uplink: u }, u === name ? 1 : 0);
    },
  };
}
