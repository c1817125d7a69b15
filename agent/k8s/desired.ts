/** Pure: desired node decorations (labels, taint, cordon, drain, condition) from a link snapshot, config and fleet grant. */
import type { LinkHealth, LinkSnapshot, UplinkView } from '../core/types.ts';
import type { KubernetesConfig, TierConfig } from '../config/k8s.ts';
import { bandwidthClass } from './bandwidth.ts';
import { readOwnership } from './ownership.ts';
import { describePause, pauseOf, taintItem, yieldedOf } from './overrides.ts';
import { LABEL_BANDWIDTH, LABEL_LINK_STATE, LABEL_UPLINK, type Desired, type NodeCondition, type NodeView, type Taint, TAINT_KEY } from './types.ts';

/** Kubernetes caps condition messages only loosely; keep ours short enough to read in `kubectl describe`. */
const MAX_MESSAGE_CHARS = 1024;

export interface DesiredInput {
  snapshot: LinkSnapshot | null;
  cfg: KubernetesConfig;
  node: NodeView;
  nowMs: number;
  /** True when the fleet semaphore lets this node hold restrictive decorations (NoSchedule/NoExecute, cordon, drain). */
  fleetGranted: boolean;
  /** When the node link state became unknown (null while it is known). */
  unknownSinceMs: number | null;
}

/** The tier config of a state, or null for healthy/unknown. */
export function tierOf(state: LinkHealth, cfg: KubernetesConfig): TierConfig | null {
  if (state === 'degraded') return cfg.tiers.degraded;
  if (state === 'down') return cfg.tiers.down;
  return null;
}

/** True when these decorations need a fleet hold (NoSchedule/NoExecute taint, cordon or drain). */
export function holdsNeeded(d: Pick<Desired, 'taint' | 'cordon' | 'drain'>): boolean {
  return d.cordon || d.drain || d.taint?.effect === 'NoSchedule' || d.taint?.effect === 'NoExecute';
}

/** True when the tier of `state` asks for something the fleet cap governs. */
export function wantsRestrictive(state: LinkHealth, cfg: KubernetesConfig): boolean {
  const t = tierOf(state, cfg);
  return t !== null && (t.taint === 'NoSchedule' || t.taint === 'NoExecute' || t.cordon || t.drain);
}

/** A measured value: `digits` decimals from 1 up, two significant digits below 1 (0.05 Mbps, not "0Mbps" or "0.1Mbps"). */
export function fmt(n: number | undefined, unit: string, digits = 1): string | null {
  if (n === undefined || !Number.isFinite(n)) return null;
  return `${Math.abs(n) < 1 ? Number(n.toPrecision(2)) : Number(n.toFixed(digits))}${unit}`;
}

/** Condition message: state, reasons with thresholds (from the state machine), and the latest measured values. */
export function conditionMessage(state: LinkHealth, active: string | null, view: UplinkView | undefined): string {
  const l: Partial<UplinkView['latest']> = view?.latest ?? {};
  const measured = [
    fmt(l.downloadMbps, 'Mbps') && `down=${fmt(l.downloadMbps, 'Mbps')}`,
    fmt(l.uploadMbps, 'Mbps') && `up=${fmt(l.uploadMbps, 'Mbps')}`,
    fmt(l.rttP95Ms, 'ms', 0) && `rtt_p95=${fmt(l.rttP95Ms, 'ms', 0)}`,
    fmt(l.lossPercent, '%') && `loss=${fmt(l.lossPercent, '%')}`,
    fmt(l.jitterMs, 'ms', 0) && `jitter=${fmt(l.jitterMs, 'ms', 0)}`,
  ].filter((x): x is string => typeof x === 'string');
  const reasons = view?.reasons.length ? ` (${view.reasons.join(' ')})` : '';
  const msg = `link ${state} on uplink ${active ?? 'none'}${reasons}${measured.length ? `; measured ${measured.join(' ')}` : ''}`;
  return msg.length > MAX_MESSAGE_CHARS ? msg.slice(0, MAX_MESSAGE_CHARS - 1) + '…' : msg;
}

const REASONS: Record<LinkHealth, string> = { healthy: 'LinkHealthy', degraded: 'LinkDegraded', down: 'LinkDown', unknown: 'LinkUnknown' };
const STATUS: Record<LinkHealth, NodeCondition['status']> = { healthy: 'False', degraded: 'True', down: 'True', unknown: 'Unknown' };

/** Desired condition (without timestamps; the planner adds them). */
export function desiredCondition(state: LinkHealth, snapshot: LinkSnapshot | null, cfg: KubernetesConfig): NodeCondition {
  const active = snapshot?.active ?? null;
  const view = active ? snapshot?.uplinks[active] : undefined;
  return { type: cfg.conditionType, status: STATUS[state], reason: REASONS[state], message: conditionMessage(state, active, view) };
}

/** Computes the decorations this node should carry now. */
export function desiredDecorations(inp: DesiredInput): Desired {
  const { snapshot, cfg, node, nowMs } = inp;
  const state: LinkHealth = snapshot?.node ?? 'unknown';
  const base: Desired = { state, labels: {}, taint: null, cordon: false, drain: false, condition: null, hold: false, capped: [] };
  if (state === 'unknown') {
    // Never decorate on "unknown"; keep what is there for a while (restart, probe gap), then take scheduling decorations off.
    const since = inp.unknownSinceMs ?? nowMs;
    if (nowMs - since < cfg.unknownHoldSeconds * 1000) return { ...base, hold: true };
    return { ...base, condition: desiredCondition('unknown', snapshot, cfg) };
  }
  const active = snapshot?.active ?? null;
  const view = active ? snapshot?.uplinks[active] : undefined;
  const labels: Record<string, string> = { [LABEL_LINK_STATE]: state };
  if (active) labels[LABEL_UPLINK] = active;
  const bw = bandwidthClass(cfg.bandwidthClassesMbps, view?.latest.downloadMbps, node.labels[LABEL_BANDWIDTH]);
  if (bw !== undefined) labels[LABEL_BANDWIDTH] = bw;
  const out: Desired = { ...base, labels, condition: desiredCondition(state, snapshot, cfg) };
  const tier = tierOf(state, cfg);
  const pause = pauseOf(node, nowMs);
  if (pause) {
    // Admin stand-down: labels, condition and Events go on; every scheduling decoration of linkward comes off.
    return { ...out, paused: pause, notes: [describePause(pause)] };
  }
  if (!tier) return out;
  return respectYields(decorate(out, tier, state, inp), node, state);
}

/** Leaves off, for the rest of this link state, what someone removed by hand (recorded in the ownership annotation). */
function respectYields(out: Desired, node: NodeView, state: LinkHealth): Desired {
  const y = yieldedOf(node, state, { cordon: out.cordon, taint: out.taint });
  if (y.items.length === 0) return out;
  const res: Desired = { ...out, yielded: y.items, yieldedFresh: y.fresh, notes: [...(out.notes ?? [])] };
  if (y.items.includes('cordon') && res.cordon) {
    res.cordon = false;
    res.drain = false;
  }
  if (res.taint && y.items.includes(taintItem(res.taint))) res.taint = null;
  res.notes?.push(`left off until the link state changes, because someone removed it by hand: ${y.items.join(', ')}`);
  return res;
}

/** The tier's taint, cordon and drain, within the fleet grant and the admin-cordon rule. */
function decorate(out: Desired, tier: TierConfig, state: LinkHealth, inp: DesiredInput): Desired {
  const { cfg, node } = inp;
  const drain = tier.drain;
  const cordon = tier.cordon || drain;
  const restrictiveTaint = tier.taint === 'NoSchedule' || tier.taint === 'NoExecute';
  if (!inp.fleetGranted && (restrictiveTaint || cordon)) {
    // Over the fleet cap: fall back to the soft taint so the scheduler still prefers other nodes.
    out.capped = [restrictiveTaint ? `taint ${tier.taint}` : '', cordon ? 'cordon' : '', drain ? 'drain' : ''].filter(Boolean);
    out.taint = tier.taint === 'none' ? null : taintFor(state, 'PreferNoSchedule');
    return out;
  }
  out.taint = tier.taint === 'none' ? null : taintFor(state, tier.taint);
  out.cordon = cordon;
  out.drain = drain;
  // A cordon someone else set (admin, kured, an upgrade) is theirs: their node is not drained by linkward unless configured.
  if (drain && node.unschedulable && !readOwnership(node).cordon && !cfg.drain.ifCordonedByOthers) {
    out.drain = false;
    out.notes = ['drain skipped: the node was cordoned by someone else (set kubernetes.drain.ifCordonedByOthers: true to drain anyway)'];
  }
  return out;
}

function taintFor(state: LinkHealth, effect: Taint['effect']): Taint {
  return { key: TAINT_KEY, value: state, effect };
}
