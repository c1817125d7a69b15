/** Uplink selection policy (pure): forced failover off a down uplink, discretionary failover/failback under caps and hold-downs, manual override. */
import type { LinkSnapshot } from '../core/types.ts';
import type { LinkHealthConfig } from '../config/link.ts';
import type { RoutePolicyConfig } from '../config/route.ts';
import { LOSS_SMOOTHING_MS, smoothedVerdict } from './smoothing.ts';
import { SWITCH_WINDOW_MS, failbackHoldMs, freshSince, healthyForMs, judge, pick, rateLimit, ready, wantedUp } from './candidates.ts';

export { FAILBACK_BACKOFF_MAX_MS, SWITCH_WINDOW_MS, failbackHoldMs } from './candidates.ts';

/** What the policy needs to know about one configured uplink. */
export interface PolicyUplink {
  name: string;
  /** Lower is preferred. */
  priority: number;
  idleDown: boolean;
  warmupMs: number;
}

/** Knobs of the policy (from `uplinks.policy`, durations resolved to ms). */
export type PolicyConfig = Pick<
  RoutePolicyConfig,
  | 'mode'
  | 'candidateSamples'
  | 'degradedSwitchAfter'
  | 'degradedSwitchLossPercent'
  | 'failbackHold'
  | 'failbackRttMarginMs'
  | 'failbackLossMarginPercent'
  | 'maxSwitchesPerHour'
  | 'minSwitchInterval'
  | 'holdDown'
> & {
  /** The link-state thresholds; a degraded active uplink is left only if it still looks degraded with loss smoothed over LOSS_SMOOTHING_MS. */
  health?: LinkHealthConfig;
  /**
   * The light probes' per-probe timeout (probes.timeoutMs): a failed round began this long before its sample. Known,
   * a forced move goes only to an uplink that answered after the active one's failing round began (freshSince).
   */
  probeTimeoutMs?: number;
};

/** Per-uplink observation history (only what the decisions need). */
export interface UplinkTrack {
  /** `latest.atMs` of the last sample counted (a new value = a new sample). */
  lastSampleAtMs: number | null;
  /** Consecutive new samples with health `healthy`. */
  healthyStreak: number;
  /** Consecutive new samples with health `healthy` or `degraded`. */
  upStreak: number;
  /** When we first saw the current healthy run (null: not healthy). */
  healthySinceMs: number | null;
  /** Loss smoothed exponentially with time constant LOSS_SMOOTHING_MS. */
  lossSmoothed?: number;
  /** Since when the verdict with smoothed loss has been worse than healthy (null: it is healthy). */
  smoothedBadSinceMs?: number | null;
}

/** `ipv6`: the active uplink's IPv6 side, resolved after its switch, moved to it with a confirm of its own (from = to). */
export type SwitchReason = 'initial' | 'failover' | 'failback' | 'manual' | 'override-expired' | 'rollback' | 'restore' | 'ipv6';

export interface PolicyState {
  active: string | null;
  tracks: Record<string, UplinkTrack>;
  /** Uplink → time until which it is not chosen (after a failed confirm). */
  holdDownUntil: Record<string, number>;
  /** Times of automatic switches within the last hour. */
  switchLog: number[];
  lastSwitchMs: number | null;
  /** Operator override (`linkward route use`); `untilMs` null = until `route auto`. */
  override: { uplink: string; untilMs: number | null } | null;
  /** Idle-down uplinks currently brought up: name → since when. */
  awake: Record<string, number>;
  /** Uplink → times of committed failovers away from it within the last hour (absent in state saved by older agents). */
  failoversFrom?: Record<string, number[]>;
}

export type PolicyAction = { kind: 'none'; why: string } | { kind: 'switch'; from: string | null; to: string; reason: SwitchReason; why: string };

export interface PolicyStep {
  state: PolicyState;
  action: PolicyAction;
  /** Desired admin state of idle-down uplinks (true = up). Uplinks without `idleDown` are absent. */
  linkUp: Record<string, boolean>;
}

export function initialPolicyState(active: string | null = null): PolicyState {
  return { active, tracks: {}, holdDownUntil: {}, switchLog: [], lastSwitchMs: null, override: null, awake: {}, failoversFrom: {} };
}

/** Uplinks in preference order (priority, then config order). */
export function byPreference(uplinks: readonly PolicyUplink[]): PolicyUplink[] {
  return uplinks
    .map((u, i) => ({ u, i }))
    .sort((a, b) => a.u.priority - b.u.priority || a.i - b.i)
    .map((x) => x.u);
}

/** Folds a snapshot into the per-uplink tracks (new samples extend or reset streaks). */
export function observe(state: PolicyState, snap: LinkSnapshot, nowMs: number, cfg?: Pick<PolicyConfig, 'degradedSwitchLossPercent' | 'health'>): PolicyState {
  const tracks: Record<string, UplinkTrack> = { ...state.tracks };
  for (const [name, view] of Object.entries(snap.uplinks)) {
    const prev = tracks[name] ?? { lastSampleAtMs: null, healthyStreak: 0, upStreak: 0, healthySinceMs: null };
    const sampleAt = view.latest.atMs ?? snap.atMs;
    // New = a different sample time. The link publishes its newest sample's time, which only grows, except when the
    // wall clock steps: then both components move their times by the step, and `>` would hold every later sample as
    // "not new" if this saw one more snapshot of the old frame after moving its own times back.
    const isNew = prev.lastSampleAtMs === null || sampleAt !== prev.lastSampleAtMs;
    const healthy = view.health === 'healthy';
    const up = healthy || view.health === 'degraded';
    const loss = view.latest.lossPercent;
    let lossSmoothed = prev.lossSmoothed;
    if (isNew && loss !== undefined) {
      const dt = prev.lastSampleAtMs === null ? Infinity : Math.max(0, sampleAt - prev.lastSampleAtMs);
      const alpha = lossSmoothed === undefined ? 1 : 1 - Math.exp(-dt / LOSS_SMOOTHING_MS);
      lossSmoothed = lossSmoothed === undefined ? loss : lossSmoothed + alpha * (loss - lossSmoothed);
    }
    const smoothedBad =
      view.health === 'down' ||
      (view.health === 'degraded' && (!cfg?.health || smoothedVerdict(view, lossSmoothed, nowMs, cfg.health, cfg.degradedSwitchLossPercent) !== 'healthy'));
    tracks[name] = {
      lastSampleAtMs: isNew ? sampleAt : prev.lastSampleAtMs,
      healthyStreak: healthy ? prev.healthyStreak + (isNew ? 1 : 0) : 0,
      upStreak: up ? prev.upStreak + (isNew ? 1 : 0) : 0,
      healthySinceMs: healthy ? (prev.healthySinceMs ?? nowMs) : null,
      ...(lossSmoothed !== undefined ? { lossSmoothed } : {}),
      smoothedBadSinceMs: smoothedBad ? (prev.smoothedBadSinceMs ?? nowMs) : null,
    };
  }
  return { ...state, tracks };
}

/**
 * One evaluation: observe the snapshot, then decide whether to switch. The caller commits with `committed`/`rolledBack`.
 * Invariant (docs/OPERATIONS.md, "Failover invariant"): an automatic switch never goes to a worse uplink, and while the
 * active uplink is down and a healthy candidate exists, this returns a switch (caps and hold-downs do not apply to it).
 */
export function step(prev: PolicyState, uplinks: readonly PolicyUplink[], snap: LinkSnapshot, cfg: PolicyConfig, nowMs: number): PolicyStep {
  let state = observe(prev, snap, nowMs, cfg);
  const names = new Set(uplinks.map((u) => u.name));
  const ordered = byPreference(uplinks);
  const none = (why: string): PolicyStep => {
    const w = wantedUp(state, uplinks, snap, cfg, nowMs);
    return { state: { ...state, awake: w.awake }, action: { kind: 'none', why }, linkUp: w.linkUp };
  };
  const go = (to: string, reason: SwitchReason, why: string): PolicyStep => {
    const w = wantedUp(state, uplinks, snap, cfg, nowMs);
    return {
      state: { ...state, awake: w.awake },
      action: { kind: 'switch', from: state.active, to, reason, why },
      linkUp: { ...w.linkUp, ...(to in w.linkUp ? { [to]: true } : {}) },
    };
  };

  if (ordered.length === 0) return none('no uplinks configured');
  if (state.active !== null && !names.has(state.active)) state = { ...state, active: null };

  // Operator override wins while it lasts (on expiry automatic selection resumes), except that it never holds traffic
  // on a down uplink: while its uplink is down, selection is automatic.
  let note = '';
  if (state.override) {
    const o = state.override;
    if (!names.has(o.uplink)) state = { ...state, override: null };
    else if (o.untilMs === null || nowMs < o.untilMs) {
      if (snap.uplinks[o.uplink]?.health !== 'down')
        return state.active === o.uplink ? none(`manual override to ${o.uplink}`) : go(o.uplink, 'manual', `operator chose ${o.uplink}`);
      note = `override to ${o.uplink} not followed while it is down; `;
    } else state = { ...state, override: null };
  }

  if (state.active === null) {
    const first =
      ordered.find((u) => snap.uplinks[u.name]?.health === 'healthy' && ready(u, state, nowMs)) ??
      ordered.find((u) => snap.uplinks[u.name]?.health === 'degraded' && ready(u, state, nowMs)) ??
      ordered.find((u) => snap.uplinks[u.name]?.health !== 'down') ??
      ordered[0]!;
    return go(first.name, 'initial', `${note}no active uplink yet: starting on ${first.name} (${snap.uplinks[first.name]?.health ?? 'unknown'})`);
  }
  if (cfg.mode === 'manual') return none(`manual mode: staying on ${state.active}`);

  const active = state.active;
  const activeView = snap.uplinks[active];
  const activeHealth = activeView?.health ?? 'unknown';
  const activeRank = ordered.findIndex((u) => u.name === active);
  const others = ordered.filter((u) => u.name !== active);
  const activeWhy = `${active} is ${activeHealth}${activeView?.reasons.length ? ` (${activeView.reasons.join(', ')})` : ''}`;

  // Forced: leaving a down uplink for a healthy (else degraded) one is never capped nor held down.
  if (activeHealth === 'down') {
    const fresh = freshSince(activeView, cfg);
    let p = pick(others, 'healthy', false, state, snap, cfg, nowMs, fresh);
    if (!p.cand) {
      const whyNotHealthy = p.whyNot;
      p = pick(others, 'degraded', false, state, snap, cfg, nowMs, fresh);
      if (!p.cand) return none(`${note}${activeWhy}; no uplink to move to: ${whyNotHealthy.join('; ') || 'no other uplink configured'}`);
    }
    const cand = p.cand;
    const candHealth = snap.uplinks[cand.name]?.health;
    const heldNote = (state.holdDownUntil[cand.name] ?? 0) > nowMs ? '; its hold-down after a failed confirm does not apply when leaving a down uplink' : '';
    return go(
      cand.name,
      'failover',
      `${note}${activeWhy}; ${cand.name} ${candHealth} for ${p.samples} samples${candHealth === 'degraded' ? ' (better than down)' : ''}${heldNote}`,
    );
  }

  if (activeHealth === 'degraded') {
    const since = state.tracks[active]?.smoothedBadSinceMs;
    if (since === null || since === undefined)
      return none(`${note}${active} degraded only by short blips (smoothed loss ${state.tracks[active]?.lossSmoothed?.toFixed(1) ?? '?'}%): staying`);
    if (nowMs - since < cfg.degradedSwitchAfter)
      return none(`${note}${active} degraded for ${Math.round((nowMs - since) / 1000)}s; leaving it after ${cfg.degradedSwitchAfter / 1000}s`);
    const p = pick(others, 'healthy', true, state, snap, cfg, nowMs);
    if (!p.cand) return none(`${note}${activeWhy}; no healthy uplink to move to: ${p.whyNot.join('; ') || 'no other uplink configured'}`);
    const blocked = rateLimit(state, cfg, nowMs);
    if (blocked) return none(`${note}${activeWhy}; not switching to ${p.cand.name}: ${blocked}`);
    return go(p.cand.name, 'failover', `${note}${activeWhy}; ${p.cand.name} healthy for ${p.samples} samples`);
  }

  if (activeHealth !== 'healthy' || activeRank <= 0)
    return none(`${note}${activeRank === 0 && activeHealth === 'healthy' ? `on preferred uplink ${active}` : activeWhy}`);

  // Failback: the first more-preferred uplink that is ready, healthy long enough, and not worse by more than the margins.
  const whyNot: string[] = [];
  for (const u of ordered.slice(0, activeRank)) {
    const view = snap.uplinks[u.name];
    const track = state.tracks[u.name];
    const j = judge(u, 'healthy', true, state, snap, cfg, nowMs);
    if (!j.ok) {
      whyNot.push(j.why);
      continue;
    }
    const forMs = healthyForMs(view, track, nowMs);
    const holdMs = failbackHoldMs(state, u.name, cfg, nowMs);
    if (!view || forMs < holdMs) {
      const backoff = holdMs > cfg.failbackHold ? ` (doubled per failover away from it in the last hour)` : '';
      whyNot.push(`${u.name} healthy for ${Math.round(forMs / 1000)}s of the ${holdMs / 1000}s failback hold${backoff}`);
      continue;
    }
    const a = activeView!.latest;
    const p = view.latest;
    if (a.rttMs !== undefined && p.rttMs !== undefined && p.rttMs > a.rttMs + cfg.failbackRttMarginMs) {
      whyNot.push(`${u.name} RTT ${Math.round(p.rttMs)} ms > ${active} ${Math.round(a.rttMs)} ms + ${cfg.failbackRttMarginMs} ms margin`);
      continue;
    }
    if (a.lossPercent !== undefined && p.lossPercent !== undefined && p.lossPercent > a.lossPercent + cfg.failbackLossMarginPercent) {
      whyNot.push(`${u.name} loss ${p.lossPercent.toFixed(1)}% > ${active} ${a.lossPercent.toFixed(1)}% + ${cfg.failbackLossMarginPercent} points margin`);
      continue;
    }
    const blocked = rateLimit(state, cfg, nowMs);
    if (blocked) return none(`${note}failback to ${u.name} due; ${blocked}`);
    return go(u.name, 'failback', `${note}${u.name} healthy for ${Math.round(forMs / 1000)}s (hold ${holdMs / 1000}s)`);
  }
  return none(`${note}${active} healthy; no failback yet: ${whyNot.join('; ')}`);
}

/** Records a switch that was applied and confirmed (or applied without confirm). */
export function committed(state: PolicyState, to: string, reason: SwitchReason, nowMs: number): PolicyState {
  const automatic = reason === 'failover' || reason === 'failback';
  const from = state.active;
  const failoversFrom = { ...state.failoversFrom };
  if (reason === 'failover' && from !== null && from !== to)
    failoversFrom[from] = [...(failoversFrom[from] ?? []).filter((t) => nowMs - t < SWITCH_WINDOW_MS), nowMs];
  return {
    ...state,
    failoversFrom,
    active: to,
    lastSwitchMs: automatic ? nowMs : state.lastSwitchMs,
    switchLog: automatic ? [...state.switchLog.filter((t) => nowMs - t < SWITCH_WINDOW_MS), nowMs] : state.switchLog,
  };
}

/**
 * Records a switch whose confirm failed: stay on `previous`, avoid `candidate` for the hold-down time in discretionary
 * switches; it still counts against the cap. The candidate's sample streaks restart: leaving a down uplink retries it
 * only after `candidateSamples` new samples vouch for it again (the failed confirm is newer evidence than the old ones).
 */
export function rolledBack(state: PolicyState, previous: string | null, candidate: string, cfg: Pick<PolicyConfig, 'holdDown'>, nowMs: number): PolicyState {
  const track = state.tracks[candidate];
  return {
    ...state,
    tracks: track ? { ...state.tracks, [candidate]: { ...track, healthyStreak: 0, upStreak: 0 } } : state.tracks,
    active: previous,
    lastSwitchMs: nowMs,
    switchLog: [...state.switchLog.filter((t) => nowMs - t < SWITCH_WINDOW_MS), nowMs],
    holdDownUntil: { ...state.holdDownUntil, [candidate]: nowMs + cfg.holdDown },
    override: state.override?.uplink === candidate ? null : state.override,
  };
}

/** Sets (or clears, with `uplink` null) the operator override. */
export function withOverride(state: PolicyState, uplink: string | null, untilMs: number | null): PolicyState {
  return { ...state, override: uplink === null ? null : { uplink, untilMs } };
}
