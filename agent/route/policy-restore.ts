/** The policy state across changes of the wall clock: restored from a previous run (capped), or moved with a step while running. */
import { initialPolicyState, type PolicyState } from './policy.ts';

const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Entries of a saved name → time map that are times, each passed through `fix` (undefined: left out). */
function times(v: unknown, fix: (t: number) => number | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (!isRecord(v)) return out;
  for (const [k, t] of Object.entries(v)) {
    const f = isTime(t) ? fix(t) : undefined;
    if (f !== undefined) out[k] = f;
  }
  return out;
}

const timeList = (v: unknown, nowMs: number): number[] => (Array.isArray(v) ? v.filter(isTime).map((t) => Math.min(t, nowMs)) : []);

/**
 * The saved state as the next run starts from it (tracks start empty: samples are re-learnt). Saved times are wall-clock
 * times, and an edge box's clock is often ahead before NTP corrects it, so none may reach past what its rule allows
 * from now: a hold-down ends within `holdDownMs`, and switch times (which feed the per-hour cap, the minimum interval
 * and flap damping) and wake times are never in the future. Without this a clock that was a day ahead at the save
 * would keep an uplink held down, or failover capped, for a day after the restart. Expired hold-downs are dropped. A
 * value of the wrong shape reads as its empty default. The operator's override keeps its own `untilMs`: it was the
 * operator's choice, and `linkward route auto` ends it.
 */
export function restoredPolicy(saved: unknown, nowMs: number, holdDownMs: number): PolicyState {
  if (!isRecord(saved)) return initialPolicyState();
  const active = typeof saved.active === 'string' ? saved.active : null;
  const o = saved.override;
  const override = isRecord(o) && typeof o.uplink === 'string' && (o.untilMs === null || isTime(o.untilMs)) ? { uplink: o.uplink, untilMs: o.untilMs } : null;
  const failoversFrom: Record<string, number[]> = {};
  if (isRecord(saved.failoversFrom))
    for (const [k, list] of Object.entries(saved.failoversFrom)) {
      const l = timeList(list, nowMs);
      if (l.length > 0) failoversFrom[k] = l;
    }
  return {
    ...initialPolicyState(active),
    holdDownUntil: times(saved.holdDownUntil, (t) => (t > nowMs ? Math.min(t, nowMs + holdDownMs) : undefined)),
    switchLog: timeList(saved.switchLog, nowMs),
    lastSwitchMs: isTime(saved.lastSwitchMs) ? Math.min(saved.lastSwitchMs, nowMs) : null,
    override,
    awake: times(saved.awake, (t) => Math.min(t, nowMs)),
    failoversFrom,
  };
}

/**
 * The state with every wall-clock time moved by `deltaMs` (a step of the wall clock while running, new − old), so
 * every duration the policy measures stays what it was. Without it a clock stepped back by a day made "healthy for"
 * negative (no failback for a day) and kept hold-downs, switch caps and the minimum interval for a day longer; one
 * stepped forward ended them all at once. Unlike a restore (no reference between two runs: capped), a running agent
 * knows the step exactly, so the times move by it, the operator's override included.
 */
export function shiftedPolicy(state: PolicyState, deltaMs: number): PolicyState {
  if (deltaMs === 0) return state;
  const add = (t: number): number => t + deltaMs;
  const tracks: PolicyState['tracks'] = {};
  for (const [name, t] of Object.entries(state.tracks))
    tracks[name] = {
      ...t,
      lastSampleAtMs: t.lastSampleAtMs === null ? null : add(t.lastSampleAtMs),
      healthySinceMs: t.healthySinceMs === null ? null : add(t.healthySinceMs),
      ...(t.smoothedBadSinceMs !== undefined ? { smoothedBadSinceMs: t.smoothedBadSinceMs === null ? null : add(t.smoothedBadSinceMs) } : {}),
    };
  const each = (m: Readonly<Record<string, number>>): Record<string, number> => Object.fromEntries(Object.entries(m).map(([k, t]) => [k, add(t)]));
  const failoversFrom: Record<string, number[]> = {};
  for (const [k, list] of Object.entries(state.failoversFrom ?? {})) failoversFrom[k] = list.map(add);
  return {
    ...state,
    tracks,
    holdDownUntil: each(state.holdDownUntil),
    switchLog: state.switchLog.map(add),
    lastSwitchMs: state.lastSwitchMs === null ? null : add(state.lastSwitchMs),
    override: state.override && { ...state.override, untilMs: state.override.untilMs === null ? null : add(state.override.untilMs) },
    awake: each(state.awake),
    failoversFrom,
  };
}
