/** An uplink's daily probe budget as its store has counted it: the view, the status samples report, and a test's allowance. */
import type { BudgetStatus } from '../agent/core/types.ts';
import { uplinkBudgetBytes } from '../agent/config/uplinks.ts';
import { budgetView, msUntilNextUtcDay, throughputAllowance, type BudgetView } from './budget.ts';
import { MIN_USEFUL_THROUGHPUT_BYTES, type MonitorDeps } from './monitor-deps.ts';

/** The uplink's daily budget at `nowMs` (light rounds and throughput tests both spend it). */
export function uplinkBudget(d: Pick<MonitorDeps, 'uplink' | 'store'>, nowMs: number): BudgetView {
  return budgetView(uplinkBudgetBytes(d.uplink), d.store.usedToday(d.uplink.name, nowMs));
}

/** The budget as samples and metrics report it: when it refills, and whether no useful throughput test fits any more. */
export function budgetStatus(d: Pick<MonitorDeps, 'uplink' | 'store' | 'cfg'>, nowMs: number): BudgetStatus {
  const b = uplinkBudget(d, nowMs);
  return {
    ...b,
    resetAtMs: nowMs + msUntilNextUtcDay(nowMs),
    spent: throughputAllowance(b, 1, d.cfg.throughput.maxBytes, MIN_USEFUL_THROUGHPUT_BYTES) === 0,
  };
}

/**
 * Bytes one more throughput test may use at `nowMs` after `pendingBytes` its run has spent and the store has not
 * recorded yet (0: none may run).
 */
export function testAllowance(d: Pick<MonitorDeps, 'uplink' | 'store' | 'cfg'>, nowMs: number, pendingBytes: number): number {
  const b = uplinkBudget(d, nowMs);
  return throughputAllowance(budgetView(b.budgetBytes, b.usedBytes + pendingBytes), 1, d.cfg.throughput.maxBytes, MIN_USEFUL_THROUGHPUT_BYTES);
}
