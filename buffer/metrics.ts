/** Prometheus metrics of the buffer, registered on the agent's registry only. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { PRIORITY_NAMES } from '../agent/config/buffer.ts';
import type { DepthRow } from './types.ts';

/** Commit latency buckets (seconds): an fsync is ~0.1–5 ms on SSD, up to ~100 ms on SD cards. */
const COMMIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

export interface BufferMetrics {
  ingested: Counter<'sink'>;
  dropped: Counter<'sink' | 'reason'>;
  droppedBytes: Counter<'sink' | 'reason'>;
  sends: Counter<'sink' | 'status'>;
  failures: Counter<'sink' | 'status' | 'verdict'>;
  sentRecords: Counter<'sink'>;
  commit: Histogram<never>;
  corrupt: Counter<never>;
  lost: Counter<'reason'>;
  salvaged: Counter<never>;
  unsalvageable: Counter<never>;
  clockSteps: Counter<'direction'>;
  rebased: Counter<'action'>;
}

const prio = (p: number): string => PRIORITY_NAMES[p] ?? String(p);

/** Ingest bodies held in memory and requests waiting for room (ByteBudget). */
export interface InflightView {
  used: number;
  waiting: number;
}

/** Creates the metrics; `depth`, `nowMs`, `deadLetters` and `inflight` feed the gauges at scrape time. */
export function createBufferMetrics(
  reg: Registry,
  depth: () => DepthRow[],
  nowMs: () => number,
  deadLetters: () => number,
  inflight: () => InflightView,
): BufferMetrics {
  const registers = [reg];
  new Gauge({
    name: 'linkward_buffer_ingest_inflight_bytes',
    help: 'Bytes of ingest bodies held in memory (being received or waiting for their commit); bounded by buffer.maxInflightBytes.',
    registers,
    collect() {
      this.set(inflight().used);
    },
  });
  new Gauge({
    name: 'linkward_buffer_ingest_waiting_requests',
    help: 'Ingest requests waiting unread for room under buffer.maxInflightBytes (backpressure on senders).',
    registers,
    collect() {
      this.set(inflight().waiting);
    },
  });
  new Gauge({
    name: 'linkward_buffer_dead_letters',
    help: 'Batches the upstream refused permanently, kept for `linkward buffer replay`.',
    registers,
    collect() {
      this.set(deadLetters());
    },
  });
  new Gauge({
    name: 'linkward_buffer_depth_records',
    help: 'Records waiting in the telemetry buffer, per sink and priority class.',
    labelNames: ['sink', 'priority'],
    registers,
    collect() {
      this.reset();
      for (const d of depth()) this.set({ sink: d.sink, priority: prio(d.priority) }, d.records);
    },
  });
  new Gauge({
    name: 'linkward_buffer_depth_bytes',
    help: 'Payload bytes waiting in the telemetry buffer, per sink and priority class.',
    labelNames: ['sink', 'priority'],
    registers,
    collect() {
      this.reset();
      for (const d of depth()) this.set({ sink: d.sink, priority: prio(d.priority) }, d.bytes);
    },
  });
  new Gauge({
    name: 'linkward_buffer_oldest_record_age_seconds',
    help: 'Age of the oldest waiting record, per sink and priority class.',
    labelNames: ['sink', 'priority'],
    registers,
    collect() {
      this.reset();
      const now = nowMs();
      for (const d of depth()) if (d.oldestMs !== null) this.set({ sink: d.sink, priority: prio(d.priority) }, Math.max(0, (now - d.oldestMs) / 1000));
    },
  });
  return {
    ingested: new Counter({ name: 'linkward_buffer_ingested_records_total', help: 'Records committed to the buffer.', labelNames: ['sink'], registers }),
    dropped: new Counter({
      name: 'linkward_buffer_dropped_records_total',
      help: 'Records dropped, by sink and reason (overflow, rejected_full, disk_full, ttl, dead_letter, purged).',
      labelNames: ['sink', 'reason'],
      registers,
    }),
    droppedBytes: new Counter({
      name: 'linkward_buffer_dropped_bytes_total',
      help: 'Payload bytes dropped, by sink and reason.',
      labelNames: ['sink', 'reason'],
      registers,
    }),
    sends: new Counter({
      name: 'linkward_buffer_sends_total',
      help: 'Upstream send attempts by sink and HTTP status (error = no answer).',
      labelNames: ['sink', 'status'],
      registers,
    }),
    failures: new Counter({
      name: 'linkward_buffer_send_failures_total',
      help: 'Failed send attempts by sink, status and what followed (retry, split, dead).',
      labelNames: ['sink', 'status', 'verdict'],
      registers,
    }),
    sentRecords: new Counter({ name: 'linkward_buffer_sent_records_total', help: 'Records delivered upstream.', labelNames: ['sink'], registers }),
    commit: new Histogram({
      name: 'linkward_buffer_commit_duration_seconds',
      help: 'Duration of one group commit: the SQLite transaction with its WAL fsync (the ledger fdatasync runs after it, off the event loop).',
      buckets: COMMIT_BUCKETS,
      registers,
    }),
    corrupt: new Counter({ name: 'linkward_buffer_corrupt_files_total', help: 'Corrupt buffer files moved aside at start.', registers }),
    salvaged: new Counter({
      name: 'linkward_buffer_salvaged_records_total',
      help: 'Records copied out of a damaged buffer file (quarantine at start, or linkward buffer salvage).',
      registers,
    }),
    unsalvageable: new Counter({
      name: 'linkward_buffer_unsalvageable_rows_total',
      help: 'Record ids of a damaged buffer file whose row could not be read.',
      registers,
    }),
    clockSteps: new Counter({
      name: 'linkward_buffer_clock_steps_total',
      help: 'Steps of the wall clock (over 30 s against the monotonic clock) seen while buffering, by direction (forward, backward).',
      labelNames: ['direction'],
      registers,
    }),
    rebased: new Counter({
      name: 'linkward_buffer_rebased_records_total',
      help: "Buffered records whose times were moved into the wall clock's frame, by action: shifted (a forward step), created_clamped (created after now), expiry_clamped (expiring after now + TTL).",
      labelNames: ['action'],
      registers,
    }),
    lost: new Counter({
      name: 'linkward_buffer_lost_records_total',
      help: 'Acknowledged records found missing at start (ledger beside buffer.db vs the file), by reason: missing_at_open (e.g. a WAL cut short by corruption), quarantined (not salvaged from a corrupt file).',
      labelNames: ['reason'],
      registers,
    }),
  };
}
