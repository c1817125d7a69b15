/** Candidate checks of the selection policy (pure): who traffic may move to and why not, caps, failback hold, idle-down wake-ups. */
import type { LinkSnapshot, UplinkView } from '../core/types.ts';
import type { PolicyConfig, PolicyState, PolicyUplink, UplinkTrack } from './policy.ts';

/** Window over which `maxSwitchesPerHour` is counted. */
export const SWITCH_WINDOW_MS = 3_600_000;

/**
 * Longest failback hold after repeated failovers away from the same uplink. Each failover away from an uplink within
 * the hour doubles its failback hold (2, 4, 8 min at the defaults): a link that fails again soon after each failback
 * (a slow square wave, up for minutes at a time) is not taken back every cycle. 8 min keeps "back on the preferred
 * uplink" within 9 min of a stable link (60 s exit dwell + 8 min).
 */
export const FAILBACK_BACKOFF_MAX_MS = 480_000;

/** How long an uplink has been published healthy in an unbroken run the policy saw (0 when it is not healthy). */
export function healthyForMs(view: UplinkView | undefined, track: UplinkTrack | undefined, nowMs: number): number {
  if (view?.health !== 'healthy' || !track || track.healthySinceMs === null) return 0;
  return nowMs - Math.max(view.sinceMs, track.healthySinceMs);
}

/** Whether an idle-down uplink is up and warmed (always true for the others): traffic can go there at all. */
export function usable(u: PolicyUplink, state: PolicyState, nowMs: number): boolean {
  if (!u.idleDown) return true;
  const since = state.awake[u.name];
  return since !== undefined && nowMs - since >= u.warmupMs;
}

/** Usable and not held down after a failed confirm: eligible for a discretionary switch. */
export function ready(u: PolicyUplink, state: PolicyState, nowMs: number): boolean {
  return (state.holdDownUntil[u.name] ?? 0) <= nowMs && usable(u, state, nowMs);
}

/** Failback hold of `name`: `failbackHold`, doubled for each further failover away from it within the hour, at most FAILBACK_BACKOFF_MAX_MS. */
export function failbackHoldMs(state: PolicyState, name: string, cfg: Pick<PolicyConfig, 'failbackHold'>, nowMs: number): number {
  const recent = (state.failoversFrom?.[name] ?? []).filter((t) => nowMs - t < SWITCH_WINDOW_MS).length;
  if (recent <= 1) return cfg.failbackHold;
  return Math.max(cfg.failbackHold, Math.min(FAILBACK_BACKOFF_MAX_MS, cfg.failbackHold * 2 ** (recent - 1)));
}

/**
 * When the down active uplink's failing round began (its newest unreachable sample minus one probe timeout), or null
 * when it is not down for want of answers or the times are unknown. A candidate whose newest answer is older has said
 * nothing since the failure began: an outage upstream of both (the site lab cut two uplinks at once) would find it as
 * dead, and the move would only cost a confirm and a rollback. Its next round settles it.
 */
export function freshSince(activeView: UplinkView | undefined, cfg: Pick<PolicyConfig, 'probeTimeoutMs'>): number | null {
  const failedAt = activeView?.measuredAtMs?.reachable;
  if (cfg.probeTimeoutMs === undefined || failedAt === undefined || activeView?.latest.reachable !== false) return null;
  return failedAt - cfg.probeTimeoutMs;
}

/** Caps and intervals; they limit only discretionary switches (failback, degraded → better), never leaving a down uplink. */
export function rateLimit(state: PolicyState, cfg: PolicyConfig, nowMs: number): string | null {
  if (state.lastSwitchMs !== null && nowMs - state.lastSwitchMs < cfg.minSwitchInterval)
    return `last switch ${Math.round((nowMs - state.lastSwitchMs) / 1000)}s ago (minimum ${cfg.minSwitchInterval / 1000}s)`;
  const recent = state.switchLog.filter((t) => nowMs - t < SWITCH_WINDOW_MS).length;
  if (recent >= cfg.maxSwitchesPerHour) return `switch cap reached (${recent} in the last hour, max ${cfg.maxSwitchesPerHour})`;
  return null;
}

/**
 * A candidate to move traffic to, or why `u` is not one. `need` is the worst health accepted; `discretionary` applies
 * the hold-down after a failed confirm (a forced move away from a down uplink ignores it: traffic is lost there anyway).
 */
export function judge(
  u: PolicyUplink,
  need: 'healthy' | 'degraded',
  discretionary: boolean,
  state: PolicyState,
  snap: LinkSnapshot,
  cfg: PolicyConfig,
  nowMs: number,
  freshAfterMs: number | null = null,
): { ok: true; samples: number } | { ok: false; why: string } {
  const view = snap.uplinks[u.name];
  const track = state.tracks[u.name];
  const health = view?.health ?? 'unknown';
  const accepted = health === 'healthy' || (need === 'degraded' && health === 'degraded');
  if (!accepted) return { ok: false, why: `${u.name} is ${health}${view?.reasons.length ? ` (${view.reasons.join(', ')})` : ''}` };
  const samples = health === 'healthy' ? (track?.healthyStreak ?? 0) : (track?.upStreak ?? 0);
  if (samples < cfg.candidateSamples) return { ok: false, why: `${u.name} ${health} for only ${samples} of ${cfg.candidateSamples} samples` };
  if (!usable(u, state, nowMs)) {
    const since = state.awake[u.name];
    return {
      ok: false,
      why:
        since === undefined
          ? `${u.name} is being brought up (idle-down)`
          : `${u.name} warming up (${Math.round((nowMs - since) / 1000)}s of ${u.warmupMs / 1000}s)`,
    };
  }
  // Published healthy but its newest figures already cross a threshold (a worse state dwelling): not a place to move
  // traffic to by choice. Leaving a down uplink still may (it is better than down until the dwell says otherwise).
  if (discretionary && health === 'healthy' && (view?.heldBy?.length ?? 0) > 0)
    return { ok: false, why: `${u.name}'s latest measurements cross a threshold (${view!.heldBy!.join(', ')})` };
  const answeredAt = view?.latest.reachable === true ? view.measuredAtMs?.reachable : undefined;
  if (freshAfterMs !== null && answeredAt !== undefined && answeredAt < freshAfterMs)
    return {
      ok: false,
      why: `${u.name} has not answered since the failure began (last answer ${Math.round((nowMs - answeredAt) / 1000)}s ago): waiting for its next round`,
    };
  const held = state.holdDownUntil[u.name] ?? 0;
  if (discretionary && held > nowMs) return { ok: false, why: `${u.name} held down ${Math.ceil((held - nowMs) / 1000)}s more after a failed confirm` };
  return { ok: true, samples };
}

/** The first candidate in preference order, and the reasons the others before it were not. */
export function pick(
  others: readonly PolicyUplink[],
  need: 'healthy' | 'degraded',
  discretionary: boolean,
  state: PolicyState,
  snap: LinkSnapshot,
  cfg: PolicyConfig,
  nowMs: number,
  freshAfterMs: number | null = null,
): { cand: PolicyUplink; samples: number } | { cand: null; whyNot: string[] } {
  const whyNot: string[] = [];
  for (const u of others) {
    const j = judge(u, need, discretionary, state, snap, cfg, nowMs, freshAfterMs);
    if (j.ok) return { cand: u, samples: j.samples };
    whyNot.push(j.why);
  }
  return { cand: null, whyNot };
}

/** Which idle-down uplinks should be up: the active and override ones, and all of them while the active one is degraded or down. */
export function wantedUp(
  state: PolicyState,
  uplinks: readonly PolicyUplink[],
  snap: LinkSnapshot,
  cfg: PolicyConfig,
  nowMs: number,
): { linkUp: Record<string, boolean>; awake: Record<string, number> } {
  const activeView = state.active ? snap.uplinks[state.active] : undefined;
  const activeGood = activeView?.health === 'healthy';
  // Woken only on evidence: an unmeasured (unknown) active uplink leaves idle NICs down.
  const activeBad = activeView?.health === 'degraded' || activeView?.health === 'down';
  const settled = activeGood && healthyForMs(activeView, state.active ? state.tracks[state.active] : undefined, nowMs) >= cfg.failbackHold;
  const linkUp: Record<string, boolean> = {};
  const awake: Record<string, number> = {};
  for (const u of uplinks) {
    if (!u.idleDown) continue;
    const needed = u.name === state.active || u.name === state.override?.uplink || activeBad;
    const keep = state.awake[u.name] !== undefined && !settled;
    const up = needed || keep;
    linkUp[u.name] = up;
    if (up) awake[u.name] = state.awake[u.name] ?? nowMs;
  }
  return { linkUp, awake };
}
