/** Pure light-probe planner: adaptive interval with jitter, target rotation once settled, quorum over fresh results. */
import type { QuorumRule } from '../agent/config/probes.ts';
import { quorumMet } from './stats.ts';

/** Clean rounds in a row before the interval doubles (≈ 1 min at 5 s). */
export const SETTLE_ROUNDS = 12;
/** ± share of random jitter on every interval so probes of many nodes do not align. */
export const INTERVAL_JITTER = 0.1;
/** A target's last result counts for quorum for this many of the current intervals × targets (rotation period). */
export const FRESHNESS_ROTATIONS = 2.5;

export interface PlannerState {
  /** Consecutive rounds in which every probed target answered without loss. */
  cleanRounds: number;
  /** Current base interval (ms). */
  intervalMs: number;
  /** Next target index when rotating. */
  rotation: number;
  /** Last result per target id. */
  last: Record<string, { up: boolean; atMs: number }>;
}

export interface PlannerConfig {
  intervalMs: number;
  maxIntervalMs: number;
  quorum: QuorumRule;
}

export function initialPlanner(cfg: PlannerConfig): PlannerState {
  return { cleanRounds: 0, intervalMs: cfg.intervalMs, rotation: 0, last: {} };
}

/** Which target indices to probe this round: all until settled, then one at a time in rotation. */
export function targetsForRound(state: PlannerState, cfg: PlannerConfig, targetCount: number): number[] {
  if (targetCount === 0) return [];
  const settled = state.intervalMs > cfg.intervalMs;
  if (!settled) return Array.from({ length: targetCount }, (_, i) => i);
  return [state.rotation % targetCount];
}

/** Folds one round's per-target outcome into the state; returns the new state. */
export function afterRound(
  state: PlannerState,
  cfg: PlannerConfig,
  probed: readonly { id: string; up: boolean; lossless: boolean }[],
  nowMs: number,
  targetCount: number,
): PlannerState {
  const last = { ...state.last };
  for (const p of probed) last[p.id] = { up: p.up, atMs: nowMs };
  const clean = probed.length > 0 && probed.every((p) => p.up && p.lossless);
  const wasSettled = state.intervalMs > cfg.intervalMs;
  if (!clean) return { cleanRounds: 0, intervalMs: cfg.intervalMs, rotation: state.rotation, last };
  const cleanRounds = state.cleanRounds + 1;
  let intervalMs = state.intervalMs;
  if (cleanRounds % SETTLE_ROUNDS === 0) intervalMs = Math.min(cfg.maxIntervalMs, intervalMs * 2);
  const rotation = wasSettled ? (state.rotation + 1) % Math.max(1, targetCount) : state.rotation;
  return { cleanRounds, intervalMs, rotation, last };
}

/** Quorum over the freshest result of every target (stale results count as unknown = not up). */
export function quorumNow(
  state: PlannerState,
  cfg: PlannerConfig,
  targetIds: readonly string[],
  nowMs: number,
): { up: number; total: number; reachable: boolean } {
  const maxAge = Math.max(cfg.intervalMs, state.intervalMs) * Math.max(1, targetIds.length) * FRESHNESS_ROTATIONS;
  let up = 0;
  for (const id of targetIds) {
    const r = state.last[id];
    if (r?.up && nowMs - r.atMs <= maxAge) up++;
  }
  return { up, total: targetIds.length, reachable: quorumMet(up, targetIds.length, cfg.quorum) };
}

/** Delay until the next round: the base interval ± jitter (`random` in [0,1) is injected). */
export function nextDelayMs(state: PlannerState, random: number): number {
  const j = 1 + INTERVAL_JITTER * (2 * random - 1);
  return Math.round(state.intervalMs * j);
}
