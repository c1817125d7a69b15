/** Moves every wall-clock time in the link state by a step of the wall clock, so dwells, ages and holds keep their length. Pure. */
import type { DampingState } from './damping.ts';
import type { LinkState, UplinkState } from './link-state.ts';
import type { MergedMetrics } from './link-verdict.ts';

function shiftMetrics(m: MergedMetrics, d: number): MergedMetrics {
  const atMs: MergedMetrics['atMs'] = {};
  for (const [f, t] of Object.entries(m.atMs) as [keyof MergedMetrics['atMs'], number][]) atMs[f] = t + d;
  return { ...m, atMs, lastMs: m.lastMs === null ? null : m.lastMs + d };
}

function shiftDamping(x: DampingState, d: number): DampingState {
  const out: DampingState = { ...x, atMs: x.atMs + d };
  if (x.lastFlapMs !== undefined) out.lastFlapMs = x.lastFlapMs + d;
  return out;
}

function shiftUplink(u: UplinkState, d: number): UplinkState {
  return {
    ...u,
    sinceMs: u.sinceMs + d,
    metrics: shiftMetrics(u.metrics, d),
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
  if (deltaMs === 0) return state;
  const uplinks: Record<string, UplinkState> = {};
  for (const [name, u] of Object.entries(state.uplinks)) uplinks[name] = shiftUplink(u, deltaMs);
  return { ...state, uplinks, nodeSinceMs: state.nodeSinceMs + deltaMs };
}
