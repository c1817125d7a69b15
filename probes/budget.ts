/** Pure daily byte budget per uplink: UTC day keys and what a probe may still spend. */

/** UTC day key (`YYYY-MM-DD`) of a wall-clock time: budgets reset at 00:00 UTC. */
export function utcDay(nowMs: number): string {
  return new Date(nowMs).toISOString().slice(0, 10);
}

/** Milliseconds until the next UTC midnight (when a spent budget refills). */
export function msUntilNextUtcDay(nowMs: number): number {
  const d = new Date(nowMs);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1) - nowMs;
}

/** Share of the daily budget kept back for light probes, so throughput probes cannot starve link monitoring. */
export const LIGHT_RESERVE_SHARE = 0.1;

export interface BudgetView {
  budgetBytes: number;
  usedBytes: number;
  remainingBytes: number;
}

/** Budget state from the daily limit and what was used today. */
export function budgetView(budgetBytes: number, usedBytes: number): BudgetView {
  return { budgetBytes, usedBytes, remainingBytes: Math.max(0, budgetBytes - usedBytes) };
}

/**
 * Byte cap per direction for a throughput probe, or 0 when it must not run.
 * The light reserve stays untouched; a probe smaller than `minUsefulBytes` per direction is not worth running.
 */
export function throughputAllowance(view: BudgetView, directions: number, configuredMaxPerDirection: number, minUsefulBytes: number): number {
  if (directions <= 0) return 0;
  const spendable = view.remainingBytes - view.budgetBytes * LIGHT_RESERVE_SHARE;
  const per = Math.floor(Math.min(configuredMaxPerDirection, spendable / directions));
  return per >= minUsefulBytes ? per : 0;
}
