/** The forwarder's ports and status: what it needs (store, sender, clock, gate), what it reports, and to whom. */
import type { Clock } from '../agent/base/clock.ts';
import type { Logger } from '../agent/base/log.ts';
import type { BufferConfig, SinkConfig } from '../agent/config/buffer.ts';
import type { GateDecision } from './gate.ts';
import type { PaceBucket } from './pacer.ts';
import type { Verdict } from './protocols.ts';
import type { BatchSender } from './sender.ts';
import type { Store } from './types.ts';

export interface ForwarderHooks {
  /** One attempt finished (status null = no answer); verdict 'split' = the batch is bisected. */
  onSend(sink: string, status: number | null, verdict: Verdict, records: number, bytes: number): void;
  /** The upstream took a batch and its acknowledgement is stored (only then are its records counted as sent). */
  onDelivered(sink: string, records: number): void;
  /** A refused batch left the buffer: kept as a dead letter, or (kept false) dropped because the disk could not hold it. */
  onDeadLetter(sink: string, records: number, bytes: number, kept: boolean): void;
}

export interface ForwarderDeps {
  sink: SinkConfig;
  cfg: Pick<BufferConfig, 'flush' | 'retry'>;
  store: Store;
  sender: BatchSender;
  clock: Clock;
  log: Logger;
  gate: () => GateDecision;
  /** The pacing bucket shared by every sink's forwarder (absent: one of its own). */
  pace?: PaceBucket;
  hooks: ForwarderHooks;
  /** Uniform in [0, 1): the jitter of retry backoff. */
  random: () => number;
}

export interface ForwarderStatus {
  sink: string;
  attempts: number;
  backoffMs: number;
  lastStatus: number | null;
  lastError: string | null;
  lastSuccessMs: number | null;
  sentBatches: number;
  /** A sent batch (delivered, or refused and dropped) whose deletion is not stored yet (disk full): failed tries; 0 = none. */
  ackPendingAttempts: number;
  /** The last step that failed before or after sending (e.g. sealing on a full disk), cleared by the next success. */
  lastStepError: string | null;
}
