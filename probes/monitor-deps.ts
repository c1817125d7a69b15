/** What an uplink monitor is built from (its ports and settings), and the limits it works within. */
import type { Clock } from '../agent/base/clock.ts';
import type { CommandRunner } from '../agent/base/exec.ts';
import type { Logger } from '../agent/base/log.ts';
import type { ProbesConfig } from '../agent/config/probes.ts';
import type { UplinkConfig } from '../agent/config/uplinks.ts';
import type { ProbeSample, UplinkView } from '../agent/core/types.ts';
import type { DisturbanceWatch } from './disturbance.ts';
import type { ProbeMetrics } from './metrics.ts';
import type { PassiveSources } from './passive-view.ts';
import type { ThreadCpu } from './run-queue.ts';
import type { InterfaceTable } from './source.ts';
import type { ProbeStore } from './store.ts';
import type { ProbeTarget } from './targets.ts';

/** Light results are stored at most this often (plus on every reachability change); bytes are counted every round. */
export const LIGHT_STORE_EVERY_MS = 60_000;
/** A throughput probe smaller than this per direction cannot be trusted; below it the budget counts as spent. */
export const MIN_USEFUL_THROUGHPUT_BYTES = 300_000;
/** Void measurements kept for the status note. */
export const MAX_VOID_EVENTS = 50;

export interface MonitorDeps extends PassiveSources {
  uplink: UplinkConfig;
  targets: ProbeTarget[];
  cfg: ProbesConfig;
  clock: Clock;
  log: Logger;
  store: ProbeStore;
  metrics: ProbeMetrics;
  runner: CommandRunner;
  emit(s: ProbeSample): void;
  random(): number;
  interfaces?: () => InterfaceTable;
  /** Judges the agent's own disturbance (CPU starvation, warm-up, clock steps); absent: every measurement is trusted. */
  watch?: DisturbanceWatch;
  /** The link-state machine's current view of this uplink (what holds it worse, for re-tests and confirmations). */
  view?: () => UplinkView | undefined;
  /** CPU time used by the process so far (ms); the default reads process.cpuUsage(). */
  cpuMs?: () => number;
  /** The event-loop thread's run and run-queue time so far; the default reads /proc/thread-self/schedstat. */
  loopCpu?: () => ThreadCpu | null;
  /** Aborted when the agent stops: a speed test in progress ends at once and is not recorded. */
  stopping?: AbortSignal;
}

export function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
