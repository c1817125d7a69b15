/** The link-state machine: per-uplink unknown/healthy/degraded/down with dwell and flap damping (of the active uplink), and the node state. Pure. */
import type { BudgetStatus, LinkHealth, LinkSnapshot, MeasurementNote, ProbeSample, UplinkView } from './types.ts';
import type { LinkHealthConfig } from './link-health.ts';
import { addFlap, decay, initialDamping, rebased, releaseAtMs, type DampingState } from './damping.ts';
import { fmt } from './fmt.ts';
import { LEVEL_RANK, computeVerdict, emptyMetrics, maxAgeMs, worse, type MergedMetrics, type MetricField } from './link-verdict.ts';
import { mergeTrusted } from './link-merge.ts';

/** A worse/better verdict waiting for its dwell time. */
export interface Pending {
  target: LinkHealth;
  direction: 'worse' | 'better';
  sinceMs: number;
  /** Dwell this change needs (from the policy, as of the last evaluation). */
  dwellMs: number;
}

export interface UplinkState {
  name: string;
  /** Published (dwelled, damped) health. */
  health: LinkHealth;
  sinceMs: number;
  reasons: string[];
  metrics: MergedMetrics;
  /** Last instantaneous verdict (a flap is this leaving healthy while the published state is healthy). */
  raw: LinkHealth;
  pending: Pending | null;
  damping: DampingState;
  /** While suppressed: the worst measured verdict seen, which the uplink is held in. */
  hold: LinkHealth | null;
  /** Metrics that hold the uplink in its published level (judged by their exit values; the others by their enter values). */
  held: MetricField[];
  /** Metrics crossing a threshold in the last verdict (what a re-measurement could clear). */
  crossed: MetricField[];
  /** Measurement notes and budget from the newest light sample that carried them (shown, never judged). */
  notes: MeasurementNote[];
  budget?: BudgetStatus;
}

export interface LinkState {
  uplinks: Record<string, UplinkState>;
  /** Configured uplinks, preferred first (the node follows the first when no active uplink was announced). */
  order: string[];
  /** Active uplink announced by the failover component (null: none). */
  announced: string | null;
  node: LinkHealth;
  nodeSinceMs: number;
}

export interface Transition {
  /** Uplink name, or null for the node. */
  uplink: string | null;
  from: LinkHealth;
  to: LinkHealth;
  atMs: number;
  reasons: string[];
}

export interface StepResult {
  state: LinkState;
  transitions: Transition[];
}

export function initialUplink(name: string, nowMs: number, restored?: DampingState): UplinkState {
  // Restored state saved before `lastFlapMs` existed: its save time bounds the hold. Saved while the wall clock was
  // ahead: its times are brought back to now (damping.ts `rebased`), so the hold ends within maxHoldS.
  const legacy = restored?.suppressed && restored.lastFlapMs === undefined ? { ...restored, lastFlapMs: restored.atMs } : restored;
  const damping = legacy && rebased(legacy, nowMs);
  return {
    name,
    health: 'unknown',
    sinceMs: nowMs,
    reasons: ['no measurement yet'],
    metrics: emptyMetrics(),
    raw: 'unknown',
    pending: null,
    damping: damping ?? initialDamping(nowMs),
    hold: damping?.suppressed ? 'degraded' : null,
    held: [],
    crossed: [],
    notes: [],
  };
}

/** Fresh state: every uplink `unknown`. Restored damping may be passed per uplink (a restart must not fake health). */
export function initialLinkState(order: readonly string[], nowMs: number, damping: Record<string, DampingState> = {}): LinkState {
  const uplinks: Record<string, UplinkState> = {};
  for (const name of order) uplinks[name] = initialUplink(name, nowMs, damping[name]);
  return { uplinks, order: [...order], announced: null, node: 'unknown', nodeSinceMs: nowMs };
}

/** The uplink the node follows: the announced active one if known, else the first configured. */
export function effectiveActive(state: LinkState): string | null {
  if (state.announced !== null && state.uplinks[state.announced]) return state.announced;
  return state.order[0] ?? Object.keys(state.uplinks)[0] ?? null;
}

function dwellMs(direction: Pending['direction'], target: LinkHealth, hard: boolean, suppressed: boolean, policy: LinkHealthConfig): number {
  if (direction === 'better') return policy.dwell.exitS * 1000;
  if (suppressed) return 0; // a damped uplink goes straight to (and stays in) the worse state
  return (hard && target === 'down' ? policy.dwell.hardDownS : policy.dwell.enterS) * 1000;
}

/**
 * Re-evaluates one uplink at `nowMs`; returns the new state and the transition if its health changed. `active` says
 * whether flaps of this uplink count: only those of the uplink carrying traffic do (see `evaluate`).
 */
export function evaluateUplink(
  prev: UplinkState,
  nowMs: number,
  policy: LinkHealthConfig,
  active = true,
): { uplink: UplinkState; transition: Transition | null } {
  const u: UplinkState = { ...prev, damping: decay(prev.damping, nowMs, policy.damping) };
  const v = computeVerdict(u.metrics, u.health, nowMs, policy, u.held);
  u.crossed = v.crossed;
  // A flap is the measured verdict leaving healthy while the uplink is published healthy (or held by damping, so
  // continued flapping keeps it held): an outage deepening from degraded to down, or values wobbling around the exit
  // threshold while an ordinary recovery dwells, are not new flaps. Only trusted figures reach `v` (a void sample or a
  // lower bound never worsens it, link-merge.ts) and the first verdict after unknown (start-up, staleness) has no
  // healthy `raw` before it, so neither counts. An idle uplink that is not held counts none: its transitions moved no
  // traffic, and it is judged by its current measurements when it is needed.
  const counts = active || u.damping.suppressed;
  if (counts && (u.health === 'healthy' || u.damping.suppressed) && u.raw === 'healthy' && (v.health === 'degraded' || v.health === 'down')) {
    const wasSuppressed = u.damping.suppressed;
    u.damping = addFlap(u.damping, nowMs, policy.damping);
    if (u.damping.suppressed && !wasSuppressed) u.hold = worse(u.raw, v.health);
  }
  u.raw = v.health;
  // While damped, the floor is the state held when suppression began: a noisy window that briefly reads `down` must
  // go through the normal dwell to deepen the state, not ratchet the floor to `down` for the whole hold.
  if (!u.damping.suppressed) u.hold = null;
  else if (u.hold === null && v.health !== 'unknown') u.hold = worse('degraded', v.health);

  let next: LinkHealth = u.health;
  let reasons = v.reasons;
  if (v.health === 'unknown') {
    next = 'unknown';
    u.pending = null;
  } else {
    // While damped the published state is frozen at the hold (RFC 2439: a suppressed route stays withdrawn);
    // only a hard failure (carrier lost, no quorum) may still deepen it.
    const desired = u.hold ? (v.hard ? worse(v.health, u.hold) : u.hold) : v.health;
    if (u.health === 'unknown') {
      next = desired; // first verdict (or first after staleness) is published at once
      u.pending = null;
    } else if (desired === u.health) {
      u.pending = null;
    } else {
      const direction = LEVEL_RANK[desired] > LEVEL_RANK[u.health] ? 'worse' : 'better';
      const sinceMs = u.pending && u.pending.direction === direction ? u.pending.sinceMs : nowMs;
      const need = dwellMs(direction, desired, v.hard, u.damping.suppressed, policy);
      u.pending = { target: desired, direction, sinceMs, dwellMs: need };
      const held = nowMs - u.pending.sinceMs;
      if (held >= need) {
        next = desired;
        u.pending = null;
      } else if (direction === 'better') {
        // rebuilt from the current figures: the values that caused the state may be long gone
        reasons = [...v.reasons, `recovering: ${desired} for ${fmt(held / 1000)}s<${fmt(need / 1000)}`];
      } else {
        reasons = u.health === 'healthy' ? [] : v.reasons;
      }
    }
    if (u.hold && LEVEL_RANK[u.hold] > LEVEL_RANK[v.health] && next !== 'healthy') {
      reasons = [...reasons.filter((r) => !r.startsWith('damped:')), `damped: flapping, penalty=${Math.round(u.damping.penalty)}>${policy.damping.reuseBelow}`];
    }
  }
  if (next === 'healthy') reasons = [];
  u.reasons = reasons;
  // the metrics holding the published level: those that put it there, plus any that joined while it lasts
  if (next === 'healthy' || next === 'unknown') u.held = [];
  else if (next !== u.health) u.held = v.crossed.length > 0 ? [...v.crossed] : [...u.held];
  else u.held = [...new Set([...u.held, ...v.crossed])];
  if (next === u.health) return { uplink: u, transition: null };
  const transition: Transition = { uplink: u.name, from: u.health, to: next, atMs: nowMs, reasons };
  u.health = next;
  u.sinceMs = nowMs;
  return { uplink: u, transition };
}

/** Re-evaluates every uplink and the node at `nowMs` (dwell and staleness progress without samples). */
export function evaluate(state: LinkState, nowMs: number, policy: LinkHealthConfig): StepResult {
  const uplinks: Record<string, UplinkState> = {};
  const transitions: Transition[] = [];
  // Flaps count for the uplink carrying traffic (the announced one, else the first configured) and for an uplink
  // already held by damping (a flapper we left keeps its hold while it keeps flapping).
  const carrying = effectiveActive(state);
  for (const [name, u] of Object.entries(state.uplinks)) {
    const r = evaluateUplink(u, nowMs, policy, name === carrying);
    uplinks[name] = r.uplink;
    if (r.transition) transitions.push(r.transition);
  }
  const next: LinkState = { ...state, uplinks };
  const active = effectiveActive(next);
  const nodeHealth: LinkHealth = active ? (uplinks[active]?.health ?? 'unknown') : 'unknown';
  if (nodeHealth !== state.node) {
    transitions.push({ uplink: null, from: state.node, to: nodeHealth, atMs: nowMs, reasons: active ? (uplinks[active]?.reasons ?? []) : ['no uplink'] });
    next.node = nodeHealth;
    next.nodeSinceMs = nowMs;
  }
  return { state: next, transitions };
}

/**
 * Merges one probe sample into its uplink and re-evaluates. Samples of unconfigured uplinks create them. A void sample
 * or a lower-bound figure may only keep or improve the verdict (link-merge.ts); notes and budget are taken as they are.
 */
export function step(state: LinkState, measured: ProbeSample, nowMs: number, policy: LinkHealthConfig): StepResult {
  // No measurement is from the future: one stamped later than now was taken before the wall clock stepped back, and
  // would otherwise keep every later sample out as "older" (link-merge.ts) until the clock caught up with it.
  const sample = measured.atMs > nowMs ? { ...measured, atMs: nowMs } : measured;
  const prev = state.uplinks[sample.uplink] ?? initialUplink(sample.uplink, nowMs);
  const merged: UplinkState = {
    ...prev,
    metrics: mergeTrusted(prev.metrics, sample, prev.health, prev.held, nowMs, policy),
    ...(sample.notes ? { notes: sample.notes } : {}),
    ...(sample.budget ? { budget: sample.budget } : {}),
  };
  return evaluate({ ...state, uplinks: { ...state.uplinks, [sample.uplink]: merged } }, nowMs, policy);
}

/** Records the active uplink announced on the bus and re-evaluates the node. */
export function setActive(state: LinkState, active: string | null, nowMs: number, policy: LinkHealthConfig): StepResult {
  return evaluate({ ...state, announced: active }, nowMs, policy);
}

/** Earliest time after `nowMs` at which an evaluation without new samples could change something (dwell, staleness, damping). */
export function nextDeadlineMs(state: LinkState, nowMs: number, policy: LinkHealthConfig): number | null {
  let best: number | null = null;
  const consider = (t: number | null): void => {
    if (t !== null && Number.isFinite(t) && t > nowMs && (best === null || t < best)) best = t;
  };
  for (const u of Object.values(state.uplinks)) {
    if (u.pending) consider(u.pending.sinceMs + u.pending.dwellMs);
    consider(releaseAtMs(u.damping, policy.damping));
    for (const [f, at] of Object.entries(u.metrics.atMs) as [MetricField, number | undefined][]) {
      // +1 ms: a value is fresh up to and including its max-age.
      if (at !== undefined) consider(at + maxAgeMs(f, u.metrics.values[f], policy) + 1);
    }
  }
  return best;
}

function view(u: UplinkState): UplinkView {
  const latest: UplinkView['latest'] = { atMs: u.metrics.lastMs ?? 0 };
  Object.assign(latest, u.metrics.values);
  return {
    name: u.name,
    health: u.health,
    sinceMs: u.sinceMs,
    reasons: [...u.reasons],
    latest,
    measuredAtMs: { ...u.metrics.atMs },
    heldBy: [...u.crossed],
    notes: [...u.notes],
    ...(u.budget ? { budget: { ...u.budget } } : {}),
  };
}

/** The snapshot every consumer reads; `active` is the uplink the node follows. */
export function toSnapshot(state: LinkState, nowMs: number): LinkSnapshot {
  const uplinks: Record<string, UplinkView> = {};
  for (const [name, u] of Object.entries(state.uplinks)) uplinks[name] = view(u);
  return { atMs: nowMs, node: state.node, active: effectiveActive(state), uplinks };
}
