/** What a second throughput test found, for the log line, the confirmations metric and the slow-server note (pure). */
import type { LinkHealthConfig } from '../agent/config/link.ts';
import { enterValue } from './throughput-policy.ts';
import { floorMbps } from './throughput-result.ts';
import type { Direction, ThroughputResult } from './throughput.ts';
import type { JudgedDirection } from './uplink-throughput.ts';

/**
 * agreed_low: both readings say the link (or the path) is slow, so the low figure counts; overruled: the second test
 * read well, so the first does not count; unconfirmed: nothing was concluded (the second test failed, was set aside,
 * or read only "at least").
 */
export type ConfirmationOutcome = 'agreed_low' | 'overruled' | 'unconfirmed';

/** One reading as an operator reads it in the log. */
export interface ReadingReport {
  mbps?: number;
  lowerBound: boolean;
  /** Delivered bytes over the whole test (Mbit/s). */
  floorMbps?: number;
  stopReason?: string;
  bytes: number;
  error?: string;
}

export interface ConfirmationReport {
  direction: Direction;
  why: 'bad_news' | 'silent';
  /** The server of the second test: the confirmation server (confirmUrl) or the test's own (url). */
  server: 'confirm' | 'own';
  outcome: ConfirmationOutcome;
  first: ReadingReport;
  second: ReadingReport;
}

/**
 * A run of this many tests in a row in which the test's own server read low and the confirmation server overruled it
 * is reported as a slow server (note `throughput_server_slow`): one such run is a passing stall, three in a row (at
 * the default 15-min interval, 45 min) a server that cannot serve this uplink's rate, which costs every test a second.
 */
export const SLOW_SERVER_RUNS = 3;

function reading(r: ThroughputResult): ReadingReport {
  const floor = floorMbps(r);
  return {
    ...(r.mbps !== undefined ? { mbps: Number(r.mbps.toFixed(3)) } : {}),
    lowerBound: r.lowerBound,
    ...(floor !== undefined ? { floorMbps: Number(floor.toFixed(3)) } : {}),
    ...(r.stopReason !== undefined ? { stopReason: r.stopReason } : {}),
    bytes: r.bytesUsed,
    ...(r.errors[0] !== undefined ? { error: r.errors[0] } : {}),
  };
}

/** The report of a judged direction that ran a second test; null when it ran none. */
export function confirmationReport(dir: Direction, j: JudgedDirection, policy: LinkHealthConfig): ConfirmationReport | null {
  if (j.confirmation === undefined) return null;
  const why = j.confirmedFor ?? 'bad_news';
  let outcome: ConfirmationOutcome;
  if (j.agreedLow === true) outcome = 'agreed_low';
  else if (j.pathMbps !== undefined) outcome = j.pathMbps < enterValue(dir, policy) ? 'agreed_low' : 'overruled';
  else if (why === 'silent' || j.suspect !== null) outcome = 'unconfirmed';
  else outcome = 'overruled';
  return { direction: dir, why, server: j.confirmedOn ?? 'own', outcome, first: reading(j.result), second: reading(j.confirmation) };
}

/** Whether a run's reports say the test's own server read low where the confirmation server read well. */
export function slowServerRun(reports: readonly ConfirmationReport[]): boolean {
  return reports.some((r) => r.server === 'confirm' && r.outcome === 'overruled');
}
