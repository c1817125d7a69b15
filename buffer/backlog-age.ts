/** Pure backlog-age check: warns before a lane's oldest record reaches the window its upstream still accepts. */
import { PRIORITY_NAMES, type SinkConfig } from '../agent/config/buffer.ts';
import type { DepthRow } from './types.ts';

/**
 * Prometheus (remote-write receiver, and Mimir/Cortex alike) appends only to its head block, which takes samples
 * down to about half a block (1 h with the default 2 h blocks) behind its newest sample; older ones are refused as
 * "out of bounds". Other protocols have no fixed window.
 */
export const PROMETHEUS_ACCEPT_WINDOW_SECONDS = 3_600;
/** Warn at this fraction of the window: at 45 of 60 minutes an operator still has a quarter hour to restore the link. */
export const BACKLOG_WARN_FRACTION = 0.75;

export interface BacklogWarning {
  sink: string;
  priority: string;
  oldestAgeSeconds: number;
  windowSeconds: number;
  /** 'near': within the warning fraction; 'past': older than the window (the upstream will refuse it). */
  level: 'near' | 'past';
  message: string;
}

/** The sink's acceptance window in seconds (0: none): configured, else the protocol's known one. */
export function acceptWindowSeconds(sink: Pick<SinkConfig, 'protocol' | 'acceptWindowSeconds'>): number {
  if (sink.acceptWindowSeconds !== undefined) return sink.acceptWindowSeconds;
  return sink.protocol === 'prometheus-remote-write' ? PROMETHEUS_ACCEPT_WINDOW_SECONDS : 0;
}

const minutes = (s: number): string => `${Math.round(s / 60)} min`;

/** Lanes whose oldest record is near or past its sink's acceptance window. */
export function backlogWarnings(depth: readonly DepthRow[], sinks: ReadonlyMap<string, SinkConfig>, nowMs: number): BacklogWarning[] {
  const out: BacklogWarning[] = [];
  for (const d of depth) {
    const sink = sinks.get(d.sink);
    if (!sink || d.oldestMs === null || d.records === 0) continue;
    const window = acceptWindowSeconds(sink);
    if (window <= 0) continue;
    const age = Math.max(0, (nowMs - d.oldestMs) / 1000);
    if (age < window * BACKLOG_WARN_FRACTION) continue;
    const level = age >= window ? 'past' : 'near';
    const priority = PRIORITY_NAMES[d.priority] ?? String(d.priority);
    const message =
      level === 'past'
        ? `sink ${d.sink} (${priority}): oldest record is ${minutes(age)} old, past the ${minutes(window)} its upstream accepts; such records end as dead letters with the reason`
        : `sink ${d.sink} (${priority}): oldest record is ${minutes(age)} old; its upstream refuses data older than ${minutes(window)}`;
    out.push({ sink: d.sink, priority, oldestAgeSeconds: Math.round(age), windowSeconds: window, level, message });
  }
  return out;
}
