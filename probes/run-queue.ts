/** How long the agent's event-loop thread ran and waited for a CPU (Linux schedstat): CPU contention that loop lag does not show. */
import { readFileSync } from 'node:fs';

/**
 * The event-loop thread's scheduler figures, cumulative since it started (ms). `waitMs` is time it was ready to run
 * but sat in a run queue: on a box whose cores are shared with busy pods the thread gets short slices, the loop keeps
 * turning (no lag the disturbance watch would see) and yet most of a speed test is spent waiting for a CPU.
 */
export interface ThreadCpu {
  runMs: number;
  waitMs: number;
}

/** The schedstat file of the calling thread (Node's JS code runs on the main thread, the event loop's). */
const SCHEDSTAT_PATH = '/proc/thread-self/schedstat';
const NS_PER_MS = 1_000_000;

/** Parses `/proc/<tid>/schedstat` ("<run ns> <run-queue wait ns> <timeslices>"); null when it is not that shape. Pure. */
export function parseSchedstat(text: string): ThreadCpu | null {
  const fields = text.trim().split(/\s+/);
  if (fields.length < 2) return null;
  const run = Number(fields[0]);
  const wait = Number(fields[1]);
  if (!Number.isFinite(run) || !Number.isFinite(wait) || run < 0 || wait < 0) return null;
  return { runMs: run / NS_PER_MS, waitMs: wait / NS_PER_MS };
}

/**
 * The calling thread's figures now, or null where the kernel does not give them (not Linux, a kernel without
 * CONFIG_SCHED_INFO, a /proc that hides them): the CPU-share check alone then judges a test.
 */
export function threadCpu(): ThreadCpu | null {
  try {
    return parseSchedstat(readFileSync(SCHEDSTAT_PATH, 'utf8'));
  } catch {
    return null;
  }
}

/** Figures between two readings (null when either is missing or the counters went backwards). Pure. */
export function threadCpuBetween(before: ThreadCpu | null, after: ThreadCpu | null): ThreadCpu | null {
  if (!before || !after) return null;
  const runMs = after.runMs - before.runMs;
  const waitMs = after.waitMs - before.waitMs;
  return runMs >= 0 && waitMs >= 0 ? { runMs, waitMs } : null;
}
