/** The link-health policy as plain types and the threshold-metric table: what the pure rules read (the zod schema lives in agent/config/link.ts). */

/** Which way a metric gets worse: `min` metrics are bad when low (throughput), `max` metrics when high (RTT, loss). */
export type MetricDirection = 'min' | 'max';

/** The five threshold metrics, their sample field, direction, unit and the short name used in reasons. */
export const THRESHOLD_METRICS = {
  downloadMbps: { field: 'downloadMbps', dir: 'min', unit: 'Mbps', short: 'down' },
  uploadMbps: { field: 'uploadMbps', dir: 'min', unit: 'Mbps', short: 'up' },
  rttP95Ms: { field: 'rttP95Ms', dir: 'max', unit: 'ms', short: 'rtt_p95' },
  lossPercent: { field: 'lossPercent', dir: 'max', unit: '%', short: 'loss' },
  jitterMs: { field: 'jitterMs', dir: 'max', unit: 'ms', short: 'jitter' },
} as const satisfies Record<string, { field: string; dir: MetricDirection; unit: string; short: string }>;

export type ThresholdMetric = keyof typeof THRESHOLD_METRICS;

/** One level of one metric: the value that enters the level and the (stricter) value that leaves it. */
export interface ThresholdLevel {
  enter: number;
  exit: number;
}

/** A metric's levels; `down: null` means the metric alone never makes the link down. */
export interface MetricThresholds {
  degraded: ThresholdLevel;
  down: ThresholdLevel | null;
}

/** The validated link policy (every default applied); pure functions take it as `policy`. */
export interface LinkHealthConfig {
  thresholds: Record<ThresholdMetric, MetricThresholds>;
  dwell: { enterS: number; exitS: number; hardDownS: number };
  damping: {
    enabled: boolean;
    penaltyPerFlap: number;
    halfLifeS: number;
    suppressAbove: number;
    reuseBelow: number;
    maxPenalty: number;
    maxHoldS: number;
  };
  maxAge: { lightS: number; throughputS: number; lowThroughputS: number };
}
