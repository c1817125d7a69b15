/** Pure rebase rules for stored times after a wall-clock step: which rows move and how far, and the TTL caps. */
import type { SinkConfig } from '../agent/config/buffer.ts';
import type { TimeShift } from './types.ts';

/**
 * A change of (wall − monotonic) larger than this between two checks is a step of the wall clock (NTP after a boot
 * with no RTC, an operator's `date -s`); agent/base/wall-step.ts measures it, and tells a suspend apart where the clock
 * can. Both clocks are read back to back, so a late timer on a busy CPU delays both readings alike and leaves the
 * offset alone; what does move it without a step is NTP slewing (at most 500 ppm, 15 ms per 30-s maintenance tick) and
 * a preemption between the two reads (milliseconds). 30 s is far above both, and a step it ignores moves a TTL by under
 * 30 s, nothing against TTLs of hours or days. Smaller moves do not add up (each check measures from the last): rows
 * stored between two steps are in neither frame, so a sum has no cutoff that sorts them (shiftFor).
 */
export const CLOCK_STEP_THRESHOLD_MS = 30_000;

/** A step of the wall clock, seen at a check. */
export interface ClockStep {
  /** New minus old wall time (> 0: the clock jumped forward). */
  deltaMs: number;
  /** Wall time (new frame) of the check that saw it. */
  atMs: number;
  /** Monotonic time since the previous check: the step happened within it. */
  sinceCheckMs: number;
}

/**
 * The rows a forward step left in the old frame, and how far they move. A row stored before the step carries an
 * old-frame time, at most the old frame's now at this check: `atMs − deltaMs` (the cutoff). A row stored after it
 * carries a new-frame time, at least the time of the previous check: `atMs − sinceCheckMs`. So when the step is larger
 * than the time since the previous check (a step above the 30-s threshold, checked every 30 s), every row at or before
 * the cutoff is from before the step and every later one from after it: the rule is exact. When it is not (a late
 * check), rows stored after the step within `sinceCheckMs − deltaMs` of the previous check are moved too: they look
 * younger by at most that much, and the clamp that follows every rebase keeps their expiry within now + TTL. A row
 * from before the step is never left behind, so the error is toward keeping, never toward dropping. Records handed in
 * with an explicit older time (the in-process API's `createdMs`) after a step are moved too, by the same argument
 * capped by the clamp.
 *
 * Shifts waiting together (a rebase that failed, then another step) apply in order: rows shift k moved end at or
 * before its check's time, which is at or before the next shift's cutoff (that check's old-frame now), so shift k+1
 * moves them again, as it must.
 *
 * A backward step (the clock was ahead) moves nothing: rows from before it cannot be told from rows after it by time,
 * and moving a row from an earlier, right frame backwards would drop it early. The clamp bounds them instead.
 */
export function shiftFor(step: ClockStep): TimeShift | null {
  return step.deltaMs > 0 ? { deltaMs: step.deltaMs, cutoffMs: step.atMs - step.deltaMs } : null;
}

/**
 * The latest expiry each sink's records may have at `nowMs`: now + its TTL. A record expiring later was stored with the
 * clock ahead, or before the sink's TTL was lowered in the config; both are capped. Sinks with TTL 0 are absent: their
 * records keep the expiry they have (NULL, or one from before the TTL was turned off).
 */
export function expiryCaps(sinks: Iterable<Pick<SinkConfig, 'name' | 'ttlSeconds'>>, nowMs: number): Map<string, number> {
  const caps = new Map<string, number>();
  for (const s of sinks) if (s.ttlSeconds > 0) caps.set(s.name, nowMs + s.ttlSeconds * 1000);
  return caps;
}
