/** A bulk path that passes pings but not data (PMTU black hole, flow killer): when two servers agree it delivered little, that is a figure (pure). */
import { floorMbps } from './throughput-result.ts';
import type { JudgedDirection } from './uplink-throughput.ts';

/**
 * A test shorter than this many round trips is not judged silent: on a long-RTT link (GEO satellite, ~600 ms) slow
 * start alone fills a short test, and the bytes it delivered say little of the link's rate.
 */
export const SILENT_MIN_RTTS = 10;

/**
 * A test whose floor (delivered over the whole test) is below this share of its own window estimate went quiet for
 * most of it: a burst, then silence (the lab's flow killer: "≥ 54 Mbit/s" from 141 KB, floor 0.38). A test that only
 * spent its start on connect, first byte and slow start keeps a floor of 0.83–0.85 of its estimate (emulated 6–9
 * Mbit/s links at 60–200 ms RTT, session-22 review), far above it.
 */
export const SILENT_FLOOR_SHARE = 0.5;

/**
 * What a test that went silent certainly delivered (its floor: bytes over the whole test); null for any other test.
 * Silent: it moved nothing, or a stall or its time cap ended it with a floor below SILENT_FLOOR_SHARE of its own
 * estimate. Not silent: a figure the agent vouches for, an error, a disturbance of the agent's own (starved,
 * CPU-bound), a stop on the byte cap or the line-rate allowance (data was flowing), a test still ramping up, or a test too short to judge. Such
 * a test is set aside alone: a server that stalls reads like a path that does.
 */
export function silentFloor(j: JudgedDirection, rttMs: number | undefined): number | null {
  const r = j.result;
  const agentFine = j.suspect === null || j.suspect === 'stalled';
  // a test still ramping up at its end was moving more and more data: slow start on a long round trip, not silence
  if (!agentFine || r.errors.length > 0 || r.stopReason === 'error' || r.ramping === true) return null;
  if (rttMs !== undefined && r.durationMs < SILENT_MIN_RTTS * rttMs) return null;
  const floor = floorMbps(r);
  if (floor === undefined) return null;
  if (r.mbps === undefined || r.deliveredBytes === 0) return floor; // nothing measured
  const quiet = j.suspect === 'stalled' || (r.lowerBound && r.stopReason === 'time');
  return quiet && floor < SILENT_FLOOR_SHARE * r.mbps ? floor : null;
}

/**
 * What the confirming test, against the other server, says of the path: its figure when the agent vouches for it,
 * its floor when it went silent too; null otherwise (set aside, failed, or only "at least": then nothing is concluded).
 */
export function pathFigure(second: JudgedDirection, rttMs: number | undefined): number | null {
  const r = second.result;
  if (second.suspect === null && r.mbps !== undefined && !r.lowerBound) return r.mbps;
  return silentFloor(second, rttMs);
}
