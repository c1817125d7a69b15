/** Pure bisection plan of a lane: the record counts of the pieces still to send after a permanent refusal, oldest first. */

/** Counts of the next batches to seal (empty: no bisection running; seal as usual). */
export type BisectPlan = readonly number[];

/** Largest batch the plan allows next (Infinity when no bisection runs). */
export function planLimit(plan: BisectPlan): number {
  return plan[0] ?? Number.POSITIVE_INFINITY;
}

/**
 * A batch of `records` (the oldest of the lane, so the head of the plan) was refused as a whole: it is replaced by its
 * two halves, in order; what the head held beyond this batch stays next.
 */
export function afterRefusal(plan: BisectPlan, records: number): number[] {
  const head = plan[0] ?? records;
  const first = Math.ceil(records / 2);
  const pieces = [first, records - first, Math.max(0, head - records)];
  return [...pieces, ...plan.slice(1)].filter((n) => n > 0);
}

/** A batch of `records` was delivered or dead-lettered: those records leave the front of the plan. */
export function afterSettled(plan: BisectPlan, records: number): number[] {
  const out = [...plan];
  let left = records;
  while (left > 0 && out.length > 0) {
    const take = Math.min(left, out[0]!);
    left -= take;
    out[0]! -= take;
    if (out[0] === 0) out.shift();
  }
  return out;
}
