/** The buffer service's ports: what it hands the store opener, what an opened store brings, and the adapters it is given. */
import type { PriorityClass, SinkConfig } from '../agent/config/buffer.ts';
import type { Logger } from '../agent/base/log.ts';
import type { BufferMetrics } from './metrics.ts';
import type { Recovery } from './recovery.ts';
import type { BatchSender } from './sender.ts';
import type { Store } from './types.ts';

/** What the service hands the store opener: where to count and log quarantine and losses, and how to wake the forwarders. */
export interface StoreEnv {
  metrics: BufferMetrics;
  log: Logger;
  nowMs: () => number;
  /** Wakes every forwarder (records salvaged from a quarantined file are ready to send). */
  wake: () => void;
}

/** An open store and what came with opening it. */
export interface OpenedStore {
  store: Store;
  /** Path of the live database file (null: the store has no file, e.g. a test's memory store). */
  livePath: string | null;
  /** Where a corrupt file was moved at open (null: none was). */
  movedAside: string | null;
  /** Ledger audit and salvage at open (null: the store keeps no ledger). */
  recovery: Recovery | null;
  /** Closes the store and everything opened with it, in order; called once, after the forwarders stopped. */
  close(): Promise<void>;
}

/** The buffer's adapters, all required: `buffer/adapters.ts` builds the real ones (SQLite in state.dir, undici, Math.random). */
export interface BufferDeps {
  /** Opens the store; throws when it cannot (the service keeps the message in `unavailable` and ingest answers 503). */
  openStore: (env: StoreEnv) => OpenedStore;
  /** Builds the upstream sender of a sink from its resolved headers. */
  senderFactory: (sink: SinkConfig, headers: Record<string, string>) => BatchSender;
  /** Uniform in [0, 1): the jitter of retry backoff. */
  random: () => number;
}

export interface AppendOptions {
  contentType?: string;
  contentEncoding?: string;
  priority?: PriorityClass;
  /** Measurement time (ms); default now. */
  createdMs?: number;
}
