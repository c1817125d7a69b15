/** Shared value types that flow between probes, the link-state machine and the actuators (no logic). */

/** Health of one uplink or of the node. `unknown` until the first completed measurement. */
export type LinkHealth = 'unknown' | 'healthy' | 'degraded' | 'down';

/** Ordering of health values from best to worst (for "worst of" decisions). */
export const HEALTH_RANK: Readonly<Record<LinkHealth, number>> = { healthy: 0, unknown: 1, degraded: 2, down: 3 };

/** Kind of measurement that produced a sample. */
export type ProbeKind = 'light' | 'throughput' | 'passive';

/**
 * One completed measurement round for one uplink. Fields a probe kind does not measure are absent
 * (never zero): the state machine must tell "not measured" from "measured as 0".
 */
export interface ProbeSample {
  uplink: string;
  kind: ProbeKind;
  /** Wall-clock time the round completed (ms since epoch). */
  atMs: number;
  /** Median round-trip time across answering targets. */
  rttMs?: number;
  /** 95th percentile round-trip time. */
  rttP95Ms?: number;
  /** Mean absolute difference of consecutive RTTs. */
  jitterMs?: number;
  /** Lost / sent, in percent (0–100). */
  lossPercent?: number;
  /** Probe packets `lossPercent` was computed over (the sliding window); lets the verdict tell 1 loss in 20 from a trend. */
  lossSamples?: number;
  downloadMbps?: number;
  uploadMbps?: number;
  /** Targets that answered, and how many were asked (quorum input). */
  targetsUp?: number;
  targetsTotal?: number;
  /** True when a quorum of targets answered. */
  reachable?: boolean;
  /** Interface carrier (false = cable/modem gone). */
  carrier?: boolean;
  /** Bytes this round put on the wire (both directions). */
  bytesUsed: number;
}

/** What the state machine says about one uplink. */
export interface UplinkView {
  name: string;
  health: LinkHealth;
  /** When `health` last changed (ms since epoch). */
  sinceMs: number;
  /** Human-readable reasons for a non-healthy state, e.g. `down=3.1Mbps<5`. */
  reasons: string[];
  /** Latest merged measurements (last known value per metric). */
  latest: Omit<ProbeSample, 'kind' | 'uplink' | 'bytesUsed'>;
}

/** Snapshot of link state for the whole node: what every actuator and the status API read. */
export interface LinkSnapshot {
  atMs: number;
  /** Node state = state of the active uplink (after damping). */
  node: LinkHealth;
  /** Name of the uplink carrying the default route (null before the first decision). */
  active: string | null;
  uplinks: Record<string, UplinkView>;
}
