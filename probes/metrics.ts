/** Prometheus metrics of the probes package, registered on the agent's registry only. */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ProbeSample } from '../agent/core/types.ts';

/** Goodput is measured in Mbit/s; Prometheus' base unit is the byte. */
const BITS_PER_BYTE = 8;

/** What a probe target did on its last attempts: answered, refused the connection (RST), or stayed silent. */
export type TargetState = 'ok' | 'refused' | 'silent';

/** Every TargetState, in exposition order (the enum-style gauge has one series per state). */
export const TARGET_STATES: readonly TargetState[] = ['ok', 'refused', 'silent'];

export interface ProbeMetrics {
  /** One completed round; a void sample only counts (rounds, bytes, void reason) and never moves a measurement gauge. */
  observe(s: ProbeSample): void;
  /** Today's probe byte budget; `resetAtMs` (next 00:00 UTC, ms since epoch) when known. */
  budget(uplink: string, remainingBytes: number, budgetBytes: number, resetAtMs?: number): void;
  skipped(uplink: string, reason: string): void;
  /** A figure inside a sample the agent could not vouch for (a throughput direction kept only as a lower bound). */
  voided(uplink: string, kind: ProbeSample['kind'], reason: string): void;
  /** Health of one probe target, apart from the link's: 1 on the current state's series, 0 on the others. */
  targetState(uplink: string, target: string, state: TargetState): void;
  /** A target no longer probed through this uplink (set aside: no source of its family): its series go, not freeze. */
  targetGone(uplink: string, target: string): void;
  /** A throughput test that failed (server error, refused, timeout…), by a short stable reason. */
  throughputFailed(uplink: string, reason: string): void;
  /** Whether the uplink's throughput server answered its last test. */
  throughputServerUp(uplink: string, up: boolean): void;
  /** A second throughput test ran: on which server (confirm, own) and what it concluded (confirmation-report.ts). */
  confirmation(uplink: string, direction: 'down' | 'up', server: string, outcome: string): void;
}

/** Creates the gauges/counters (names `linkward_probes_*`, base units: seconds, ratio, bits/s, bytes). */
export function createProbeMetrics(registry: Registry): ProbeMetrics {
  const registers = [registry];
  const rtt = new Gauge({ name: 'linkward_probes_rtt_seconds', help: 'Median round-trip time of the last light round.', labelNames: ['uplink'], registers });
  const rttP95 = new Gauge({
    name: 'linkward_probes_rtt_p95_seconds',
    help: '95th percentile RTT over the sliding window.',
    labelNames: ['uplink'],
    registers,
  });
  const jitter = new Gauge({
    name: 'linkward_probes_jitter_seconds',
    help: 'Mean absolute difference of consecutive RTTs over the window.',
    labelNames: ['uplink'],
    registers,
  });
  const loss = new Gauge({ name: 'linkward_probes_loss_ratio', help: 'Lost / sent probes over the window (0–1).', labelNames: ['uplink'], registers });
  const reachable = new Gauge({ name: 'linkward_probes_reachable', help: '1 when a quorum of targets answered.', labelNames: ['uplink'], registers });
  const targetsUp = new Gauge({ name: 'linkward_probes_targets_up', help: 'Targets with a fresh answer.', labelNames: ['uplink'], registers });
  // Prometheus' base unit is bytes (promtool rejects *_bits_per_second): multiply by 8 for bit/s in dashboards.
  const down = new Gauge({
    name: 'linkward_probes_download_bytes_per_second',
    help: 'Last measured download goodput (bytes/s; ×8 for bit/s).',
    labelNames: ['uplink'],
    registers,
  });
  const up = new Gauge({
    name: 'linkward_probes_upload_bytes_per_second',
    help: 'Last measured upload goodput (bytes/s; ×8 for bit/s).',
    labelNames: ['uplink'],
    registers,
  });
  const lowerBound = new Gauge({
    name: 'linkward_probes_throughput_lower_bound',
    help: '1 when the last throughput figure of this direction is a lower bound (a byte or time cap ended the test), else 0.',
    labelNames: ['uplink', 'direction'],
    registers,
  });
  const idleRtt = new Gauge({
    name: 'linkward_probes_idle_rtt_seconds',
    help: 'Median RTT on the idle link just before the last throughput test.',
    labelNames: ['uplink'],
    registers,
  });
  const loadedRtt = new Gauge({
    name: 'linkward_probes_loaded_rtt_seconds',
    help: 'Median RTT under the load of the last throughput test, on a separate connection.',
    labelNames: ['uplink'],
    registers,
  });
  const rpm = new Gauge({
    name: 'linkward_probes_responsiveness_rpm',
    help: 'Round trips per minute under load (60 / loaded RTT in seconds) in the last throughput test.',
    labelNames: ['uplink'],
    registers,
  });
  const voided = new Counter({
    name: 'linkward_probes_void_samples_total',
    help: 'Samples, or throughput figures, the agent could not vouch for (starved, warmup, clock_step, overlap, stalled, cpu_bound, unconfirmed): counted, never used to worsen a verdict.',
    labelNames: ['uplink', 'kind', 'reason'],
    registers,
  });
  const bytes = new Counter({ name: 'linkward_probes_bytes_total', help: 'Bytes put on the wire by probes.', labelNames: ['uplink', 'kind'], registers });
  const rounds = new Counter({ name: 'linkward_probes_rounds_total', help: 'Completed probe rounds.', labelNames: ['uplink', 'kind'], registers });
  const remaining = new Gauge({
    name: 'linkward_probes_budget_remaining_bytes',
    help: "Bytes left in today's (UTC) probe budget.",
    labelNames: ['uplink'],
    registers,
  });
  const budgetG = new Gauge({ name: 'linkward_probes_budget_bytes', help: 'Daily probe byte budget.', labelNames: ['uplink'], registers });
  const resetAt = new Gauge({
    name: 'linkward_probes_budget_reset_timestamp_seconds',
    help: 'When the probe byte budget refills (next 00:00 UTC), seconds since the epoch.',
    labelNames: ['uplink'],
    registers,
  });
  const skipped = new Counter({
    name: 'linkward_probes_throughput_skipped_total',
    help: 'Throughput probes not run, by reason (budget, traffic, no_url).',
    labelNames: ['uplink', 'reason'],
    registers,
  });
  const targetStateG = new Gauge({
    name: 'linkward_probes_target_state',
    help: 'State of a probe target apart from the link (ok, refused, silent): 1 on the current state, 0 on the others.',
    labelNames: ['uplink', 'target', 'state'],
    registers,
  });
  const failures = new Counter({
    name: 'linkward_probes_throughput_failures_total',
    help: 'Throughput tests that failed, by reason.',
    labelNames: ['uplink', 'reason'],
    registers,
  });
  const serverUp = new Gauge({
    name: 'linkward_probes_throughput_server_up',
    help: '1 when the throughput server answered the last test, else 0.',
    labelNames: ['uplink'],
    registers,
  });
  const confirmations = new Counter({
    name: 'linkward_probes_throughput_confirmations_total',
    help: 'Second throughput tests, by server (confirm: confirmUrl, own: url) and outcome (agreed_low, overruled, unconfirmed); overruled on confirm: the own server read low where the other read well.',
    labelNames: ['uplink', 'direction', 'server', 'outcome'],
    registers,
  });
  return {
    confirmation(uplink, direction, server, outcome) {
      confirmations.inc({ uplink, direction: direction === 'down' ? 'download' : 'upload', server, outcome });
    },
    voided(uplink, kind, reason) {
      voided.inc({ uplink, kind, reason });
    },
    observe(s) {
      const l = { uplink: s.uplink };
      rounds.inc({ uplink: s.uplink, kind: s.kind });
      if (s.bytesUsed > 0) bytes.inc({ uplink: s.uplink, kind: s.kind }, s.bytesUsed);
      if (s.void !== undefined) {
        voided.inc({ uplink: s.uplink, kind: s.kind, reason: s.void });
        return;
      }
      if (s.rttMs !== undefined) rtt.set(l, s.rttMs / 1000);
      if (s.rttP95Ms !== undefined) rttP95.set(l, s.rttP95Ms / 1000);
      if (s.jitterMs !== undefined) jitter.set(l, s.jitterMs / 1000);
      if (s.lossPercent !== undefined) loss.set(l, s.lossPercent / 100);
      if (s.reachable !== undefined) reachable.set(l, s.reachable ? 1 : 0);
      if (s.targetsUp !== undefined) targetsUp.set(l, s.targetsUp);
      if (s.downloadMbps !== undefined) down.set(l, (s.downloadMbps * 1e6) / BITS_PER_BYTE);
      if (s.uploadMbps !== undefined) up.set(l, (s.uploadMbps * 1e6) / BITS_PER_BYTE);
      // Passive rates are traffic seen, not a test's figure: only a throughput test says whether its figure was capped.
      if (s.kind === 'throughput') {
        if (s.downloadMbps !== undefined) lowerBound.set({ uplink: s.uplink, direction: 'download' }, s.downloadLowerBound === true ? 1 : 0);
        if (s.uploadMbps !== undefined) lowerBound.set({ uplink: s.uplink, direction: 'upload' }, s.uploadLowerBound === true ? 1 : 0);
      }
      if (s.idleRttMs !== undefined) idleRtt.set(l, s.idleRttMs / 1000);
      if (s.loadedRttMs !== undefined) loadedRtt.set(l, s.loadedRttMs / 1000);
      if (s.responsivenessRpm !== undefined) rpm.set(l, s.responsivenessRpm);
    },
    budget(uplink, rem, total, resetAtMs) {
      remaining.set({ uplink }, rem);
      budgetG.set({ uplink }, total);
      if (resetAtMs !== undefined && Number.isFinite(resetAtMs)) resetAt.set({ uplink }, resetAtMs / 1000);
    },
    skipped(uplink, reason) {
      skipped.inc({ uplink, reason });
    },
    targetState(uplink, target, state) {
      for (const s of TARGET_STATES) targetStateG.set({ uplink, target, state: s }, s === state ? 1 : 0);
    },
    targetGone(uplink, target) {
      for (const s of TARGET_STATES) targetStateG.remove({ uplink, target, state: s });
    },
    throughputFailed(uplink, reason) {
      failures.inc({ uplink, reason });
    },
    throughputServerUp(uplink, isUp) {
      serverUp.set({ uplink }, isUp ? 1 : 0);
    },
  };
}
