/** Prometheus metrics of the probes package, registered on the agent's registry only. */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ProbeSample } from '../agent/core/types.ts';

export interface ProbeMetrics {
  observe(s: ProbeSample): void;
  budget(uplink: string, remainingBytes: number, budgetBytes: number): void;
  skipped(uplink: string, reason: string): void;
}

/** Creates the gauges/counters (names `linkward_probes_*`, base units: seconds, ratio, bits/s, bytes). */
export function createProbeMetrics(registry: Registry): ProbeMetrics {
  const registers = [registry];
  const rtt = new Gauge({ name: 'linkward_probes_rtt_seconds', help: 'Median round-trip time of the last light round.', labelNames: ['uplink'], registers });
  const rttP95 = new Gauge({ name: 'linkward_probes_rtt_p95_seconds', help: '95th percentile RTT over the sliding window.', labelNames: ['uplink'], registers });
  const jitter = new Gauge({ name: 'linkward_probes_jitter_seconds', help: 'Mean absolute difference of consecutive RTTs over the window.', labelNames: ['uplink'], registers });
  const loss = new Gauge({ name: 'linkward_probes_loss_ratio', help: 'Lost / sent probes over the window (0–1).', labelNames: ['uplink'], registers });
  const reachable = new Gauge({ name: 'linkward_probes_reachable', help: '1 when a quorum of targets answered.', labelNames: ['uplink'], registers });
  const targetsUp = new Gauge({ name: 'linkward_probes_targets_up', help: 'Targets with a fresh answer.', labelNames: ['uplink'], registers });
  const down = new Gauge({ name: 'linkward_probes_download_bits_per_second', help: 'Last measured download goodput.', labelNames: ['uplink'], registers });
  const up = new Gauge({ name: 'linkward_probes_upload_bits_per_second', help: 'Last measured upload goodput.', labelNames: ['uplink'], registers });
  const bytes = new Counter({ name: 'linkward_probes_bytes_total', help: 'Bytes put on the wire by probes.', labelNames: ['uplink', 'kind'], registers });
  const rounds = new Counter({ name: 'linkward_probes_rounds_total', help: 'Completed probe rounds.', labelNames: ['uplink', 'kind'], registers });
  const remaining = new Gauge({ name: 'linkward_probes_budget_remaining_bytes', help: "Bytes left in today's (UTC) probe budget.", labelNames: ['uplink'], registers });
  const budgetG = new Gauge({ name: 'linkward_probes_budget_bytes', help: 'Daily probe byte budget.', labelNames: ['uplink'], registers });
  const skipped = new Counter({ name: 'linkward_probes_throughput_skipped_total', help: 'Throughput probes not run, by reason (budget, traffic, no_url).', labelNames: ['uplink', 'reason'], registers });
  return {
    observe(s) {
      const l = { uplink: s.uplink };
      rounds.inc({ uplink: s.uplink, kind: s.kind });
      if (s.bytesUsed > 0) bytes.inc({ uplink: s.uplink, kind: s.kind }, s.bytesUsed);
      if (s.rttMs !== undefined) rtt.set(l, s.rttMs / 1000);
      if (s.rttP95Ms !== undefined) rttP95.set(l, s.rttP95Ms / 1000);
      if (s.jitterMs !== undefined) jitter.set(l, s.jitterMs / 1000);
      if (s.lossPercent !== undefined) loss.set(l, s.lossPercent / 100);
      if (s.reachable !== undefined) reachable.set(l, s.reachable ? 1 : 0);
      if (s.targetsUp !== undefined) targetsUp.set(l, s.targetsUp);
      if (s.downloadMbps !== undefined) down.set(l, s.downloadMbps * 1e6);
      if (s.uploadMbps !== undefined) up.set(l, s.uploadMbps * 1e6);
    },
    budget(uplink, rem, total) {
      remaining.set({ uplink }, rem);
      budgetG.set({ uplink }, total);
    },
    skipped(uplink, reason) {
      skipped.inc({ uplink, reason });
    },
  };
}
