/** A bulk path that passes pings but not data (PMTU black hole, flow killer): when two servers agree it delivered little, that is a figure (pure). */
import { floorMbps } from './throughput-result.ts';
import type { JudgedDirection } from './uplink-throughput.ts';

/**
 * A test shorter than this many round trips is not judged silent: on a long-RTT link (GEO satellite, ~600 ms) slow
 * start alone fills a short test, and the bytes it delivered say little of the link's rate.
 */
export const SILENT_MIN_RTTS = 10;

/**
 * What a test the agent could take no figure from certainly delivered (its floor: bytes over the whole test): one
 * that stalled, moved nothing, or that a cap ended before its estimate settled (a burst, then silence: the window
 * estimate reads high, the floor low). Null for a figure the agent vouches for, an error, a disturbance of the agent's
 * own (starved, CPU-bound), or a test too short to judge. Such a test is set aside alone: a server that stalls reads
 * like a path that does.
 */
export function silentFloor(j: JudgedDirection, rttMs: number | undefined): number | null {
  const r = j.result;
  const agentFine = j.suspect === null || j.suspect === 'stalled';
  const noFigure = r.mbps === undefined || r.lowerBound || j.suspect === 'stalled';
  if (!agentFine || !noFigure || r.errors.length > 0 || r.stopReason === 'error') return null;
  if (rttMs !== undefined && r.durationMs < SILENT_MIN_RTTS * rttMs) return null;
  return floorMbps(r) ?? null;
}

/**
 * What the confirming test, against the other server, says of the path: its figure when the agent vouches for it, else
 * its floor (silentFloor); null when it cannot be vouched for (starved, CPU-bound) or failed.
 */
export function pathFigure(second: JudgedDirection, rttMs: number | undefined): number | null {
  const r = second.result;
  if (second.suspect === null && r.mbps !== undefined && !r.lowerBound) return r.mbps;
  return silentFloor(second, rttMs);
}
