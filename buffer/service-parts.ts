/** The buffer service's parts on an open store: the group committer and one forwarder per sink, their hooks feeding the metrics. */
import type { Clock } from '../agent/base/clock.ts';
import { messageOf } from '../agent/base/errors.ts';
import type { Logger } from '../agent/base/log.ts';
import type { BufferConfig, SinkConfig } from '../agent/config/buffer.ts';
import { GroupCommitter, type DropReason } from './committer.ts';
import { SinkForwarder } from './forwarder.ts';
import type { GateDecision } from './gate.ts';
import type { BufferMetrics } from './metrics.ts';
import { createPaceBucket } from './pacer.ts';
import { resolveSinkHeaders } from './secrets.ts';
import type { BatchSender } from './sender.ts';
import type { BufferDeps } from './service-ports.ts';
import type { Store } from './types.ts';

/** What the parts call back into (the BufferService), at each call. */
export interface PartsHost {
  readonly metrics: BufferMetrics;
  readonly forwarders: Map<string, SinkForwarder>;
  countDrop(sink: string, reason: DropReason, records: number, bytes: number): void;
  gate(): GateDecision;
}

/** What the parts are built from. */
export interface PartsEnv {
  store: Store;
  cfg: BufferConfig;
  clock: Clock;
  log: Logger;
  deps: BufferDeps;
}

/** The group committer of ingests: counts drops and commit times, wakes the forwarders of the sinks appended to. */
export function createCommitter(host: PartsHost, env: PartsEnv): GroupCommitter {
  const cfg = env.cfg;
  return new GroupCommitter(
    env.store,
    {
      maxDelayMs: cfg.commit.maxDelayMs,
      maxRecords: cfg.commit.maxRecords,
      limits: { maxBytes: cfg.maxBytes, maxRecords: cfg.maxRecords ?? null, policy: cfg.policy },
    },
    {
      onDrop: (sink, reason, n, bytes) => host.countDrop(sink, reason, n, bytes),
      onCommit: (seconds, n) => {
        if (n > 0) host.metrics.commit.observe(seconds);
      },
      onAppended: (perSink) => {
        for (const [s, n] of perSink) {
          host.metrics.ingested.inc({ sink: s }, n);
          host.forwarders.get(s)?.wake();
        }
      },
    },
    env.clock,
  );
}

/** Adds one forwarder per sink to `host.forwarders`; a sink whose headers cannot be resolved gets none (logged). */
export function createForwarders(host: PartsHost, env: PartsEnv, sinks: Iterable<SinkConfig>): void {
  const cfg = env.cfg;
  const store = env.store;
  // one bucket for every sink: the pace fraction bounds the whole flush on the uplink
  const pace = createPaceBucket();
  for (const sink of sinks) {
    let sender: BatchSender;
    try {
      const headers = resolveSinkHeaders(sink);
      sender = env.deps.senderFactory(sink, headers);
    } catch (e) {
      env.log.error({ sink: sink.name, err: messageOf(e) }, 'sink disabled: its headers could not be resolved; records are kept until it is fixed');
      continue;
    }
    host.forwarders.set(
      sink.name,
      new SinkForwarder({
        sink,
        cfg,
        store,
        sender,
        clock: env.clock,
        log: env.log,
        gate: () => host.gate(),
        pace,
        random: env.deps.random,
        hooks: {
          onSend: (name, status, verdict) => {
            host.metrics.sends.inc({ sink: name, status: status === null ? 'error' : String(status) });
            if (verdict !== 'ok') host.metrics.failures.inc({ sink: name, status: status === null ? 'error' : String(status), verdict });
          },
          onDelivered: (name, records) => host.metrics.sentRecords.inc({ sink: name }, records),
          onDeadLetter: (name, records, bytes, kept) => host.countDrop(name, kept ? 'dead_letter' : 'disk_full', records, bytes),
        },
      }),
    );
  }
}
