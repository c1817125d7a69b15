/** Moves the wall-clock times in the link state by a step of the wall clock or a suspend, so dwells and holds keep their length. Pure. */
import type { DampingState } from './damping.ts';
import type { LinkState, UplinkState } from './link-state.ts';
import { LOAD_FIELDS, THROUGHPUT_FIELDS, type MergedMetrics, type MetricField } from './link-verdict.ts';

/** Which figure times move: all of them for a step, all but the speed test's for a suspend. */
type Moves = (f: MetricField) => boolean;
const ALL: Moves = () => true;
/** A speed-test figure is measured minutes to hours apart: one from before a sleep must age by it and be re-measured. */
const NOT_SPEED_TEST: Moves = (f) => !THROUGHPUT_FIELDS.has(f) && !LOAD_FIELDS.has(f);

function shiftMetrics(m: MergedMetrics, d: number, moves: Moves): MergedMetrics {
  const atMs: MergedMetrics['atMs'] = {};
  for (const [f, t] of Object.entries(m.atMs) as [MetricField, number][]) atMs[f] = moves(f) ? t + d : t;
  return { ...m, atMs, lastMs: m.lastMs === null ? null : m.lastMs + d };
}

function shiftDamping(x: DampingState, d: number): DampingState {
  const out: DampingState = { ...x, atMs: x.atMs + d };
  if (x.lastFlapMs !== undefined) out.lastFlapMs = x.lastFlapMs + d;
  return out;
}

function shiftUplink(u: UplinkState, d: number, moves: Moves): UplinkState {
  return {
    ...u,
    sinceMs: u.sinceMs + d,
    metrics: shiftMetrics(u.metrics, d, moves),
    pending: u.pending && { ...u.pending, sinceMs: u.pending.sinceMs + d },
    damping: shiftDamping(u.damping, d),
  };
}

/**
 * The state with every wall-clock time moved by `deltaMs` (the wall clock's step, new − old): when a dwell began,
 * since when a level holds, when each figure was measured, the damping's clock. Durations measured against the new
 * clock are then the ones measured before the step: a clock stepped back does not make an uplink "healthy for"
 * a negative time (no failback until it caught up), nor one stepped forward every dwell and figure age pass at once.
 */
export function shiftLinkState(state: LinkState, deltaMs: number): LinkState {
  return shiftAll(state, deltaMs, ALL);
}

/**
 * The state after the system slept `sleptMs`: dwell starts, holds, the damping's clock and light figures move by it,
 * as for a step, so a dwell or hold counts awake time only and no verdict is served by the sleep. Speed-test figures
 * (throughput and the load figures measured with it) keep their times and age by the sleep: one from before it is as
 * old as it is, expires by its max-age and is re-measured. Light figures are replaced by the first rounds after waking.
 */
export function sleepLinkState(state: LinkState, sleptMs: number): LinkState {
  return shiftAll(state, sleptMs, NOT_SPEED_TEST);
}

function shiftAll(state: LinkState, deltaMs: number, moves: Moves): LinkState {
  if (deltaMs === 0) return state;
  const uplinks: Record<string, UplinkState> = {};
  for (const [name, u] of Object.entries(state.uplinks)) uplinks[name] = shiftUplink(u, deltaMs, moves);
  return { ...state, uplinks, nodeSinceMs: state.nodeSinceMs + deltaMs };
}
