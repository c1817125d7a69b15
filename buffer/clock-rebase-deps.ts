/** What the clock rebaser needs (one interface per side effect) and how it paces and retries its writes. */
import type { Clock } from '../agent/base/clock.ts';
import type { Logger } from '../agent/base/log.ts';
import type { SinkConfig } from '../agent/config/buffer.ts';
import type { BufferMetrics } from './metrics.ts';
import type { Store } from './types.ts';

export interface ClockRebaseDeps {
  store: Store;
  clock: Clock;
  sinks: Iterable<Pick<SinkConfig, 'name' | 'ttlSeconds'>>;
  log: Logger;
  metrics: BufferMetrics;
  /** Resolves once every record handed to the committer is in the store (old-frame ones included). */
  drain: () => Promise<void>;
  /** False once the service is stopping: the rebase stops at a slice boundary; the next open resumes what is stored. */
  active: () => boolean;
  /** A rebase finished: the expiry sweep it held back may run now. */
  settled: () => void;
}

/**
 * After a failed rebase (e.g. a full disk: each slice rewrites the rows it moves, so the WAL needs about their size),
 * wait this long before the next try, doubling up to REBASE_RETRY_MAX_MS: the sweep it holds back only loses nothing by
 * waiting, and a stored plan goes on where it stopped.
 */
export const REBASE_RETRY_FIRST_MS = 30_000;
export const REBASE_RETRY_MAX_MS = 600_000;

/**
 * Records rewritten per rebase transaction. One transaction for the whole buffer held the loop 1.7–3.3 s for
 * 0.16–0.98 M records on the 2-core dev VM, 15 s for 0.6 M of 1.3 KB beside a busy loop per core (`npm run
 * bench:rebase`): past any probe timeout, and on a slow SD card past the unit's 30-s WatchdogSec, whose kill rolled
 * the rebase back. In slices of 2,000 the loop ran a 10-ms timer at most 7–15 ms late (39–50 ms busy); ingest,
 * probes and the watchdog run between slices.
 */
export const REBASE_SLICE_RECORDS = 2_000;
