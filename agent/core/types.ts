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
  /** The download/upload figure is a lower bound: a byte or time cap ended the test before the estimate settled. */
  downloadLowerBound?: boolean;
  uploadLowerBound?: boolean;
  /** RTT on an idle link just before a throughput test, and under its load on a separate connection (median, ms). */
  idleRttMs?: number;
  loadedRttMs?: number;
  /** Round trips per minute under load (60000 / loadedRttMs): the responsiveness figure of networkQuality / RPM. */
  responsivenessRpm?: number;
  /**
   * Set when the agent cannot vouch for this sample (its own scheduling delay, start-up warm-up, a clock step, a
   * probe overlapping its own throughput test, a stalled or CPU-bound transfer): it never moves a verdict toward worse.
   */
  void?: VoidReason;
  /** What the operator should know about this uplink's measurements (carried by light samples; replaces the last list). */
  notes?: MeasurementNote[];
  /** This uplink's probe byte budget as of this sample (carried by light samples). */
  budget?: BudgetStatus;
}

/** Why a sample cannot be vouched for. */
export type VoidReason = 'starved' | 'warmup' | 'clock_step' | 'overlap' | 'stalled' | 'cpu_bound' | 'unconfirmed';

/** Every VoidReason, for metrics and tests. */
export const VOID_REASONS: readonly VoidReason[] = ['starved', 'warmup', 'clock_step', 'overlap', 'stalled', 'cpu_bound', 'unconfirmed'];

/** Stable codes of measurement notes: problems of targets, servers, budget or the agent itself, never link faults. */
export type MeasurementNoteCode =
  | 'target_refused'
  | 'target_silent'
  | 'throughput_server_failing'
  | 'throughput_server_slow'
  | 'throughput_disabled'
  | 'budget_spent'
  | 'measurements_disturbed'
  | 'throughput_expired'
  | 'target_unprobed';

export interface MeasurementNote {
  code: MeasurementNoteCode;
  /** One sentence for operators, e.g. `probe target 10.0.0.9:9781 refuses connections (no probe server there)`. */
  message: string;
  /** Since when the condition holds (ms since epoch). */
  sinceMs: number;
}

/** Probe byte budget of one uplink for the current UTC day. */
export interface BudgetStatus {
  budgetBytes: number;
  usedBytes: number;
  remainingBytes: number;
  /** When the budget refills (next 00:00 UTC, ms since epoch). */
  resetAtMs: number;
  /** True when no throughput test can run until the reset. */
  spent: boolean;
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
  latest: Omit<ProbeSample, 'kind' | 'uplink' | 'bytesUsed' | 'void' | 'notes' | 'budget'>;
  /** When each value in `latest` was measured (ms since epoch), so every surface can show a figure's age. */
  measuredAtMs?: Partial<Record<string, number>>;
  /** Metrics crossing a threshold in the latest verdict (`downloadMbps`, `reachable`, ...): what a re-measurement could clear. */
  heldBy?: string[];
  /** Measurement notes (target, server, budget, agent problems): shown beside the verdict, never part of it. */
  notes?: MeasurementNote[];
  /** Probe byte budget, when known. */
  budget?: BudgetStatus;
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
