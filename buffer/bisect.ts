/** Bisection plans of a sink's lanes: the record ids of the pieces still to send after a permanent refusal, in order. */

/** Pieces to seal next, each the ids of one batch (empty: no bisection running; seal as usual). */
export type BisectPlan = readonly (readonly number[])[];

/**
 * The batch holding `ids` was refused as a whole: it is replaced by its two halves, in order, ahead of the rest of
 * the piece it came from (when the sealer took only part of that piece) and of the later pieces.
 */
export function afterRefusal(plan: BisectPlan, ids: readonly number[]): number[][] {
  const refused = new Set(ids);
  const half = Math.ceil(ids.length / 2);
  const headRest = (plan[0] ?? []).filter((id) => !refused.has(id));
  return [ids.slice(0, half), ids.slice(half), headRest, ...plan.slice(1).map((p) => [...p])].filter((p) => p.length > 0);
}

/** Records `ids` were delivered, dead-lettered or are gone: they leave the plan; empty pieces are dropped. */
export function afterSettled(plan: BisectPlan, ids: readonly number[]): number[][] {
  const done = new Set(ids);
  return plan.map((p) => p.filter((id) => !done.has(id))).filter((p) => p.length > 0);
}

/** The plans of one sink, one per priority lane (no entry: no bisection running in that lane). */
export class LanePlans {
  readonly #plans = new Map<number, number[][]>();

  /** The ids of the lane's next piece to seal, or null when no bisection runs there. */
  head(priority: number): readonly number[] | null {
    return this.#plans.get(priority)?.[0] ?? null;
  }

  /** Records delivered, dead-lettered or gone (evicted, expired) leave the lane's plan. */
  settled(priority: number, ids: readonly number[]): void {
    const plan = this.#plans.get(priority);
    if (!plan) return;
    const next = afterSettled(plan, ids);
    if (next.length === 0) this.#plans.delete(priority);
    else this.#plans.set(priority, next);
  }

  /** The batch holding `ids` was refused as a whole: its halves go first. */
  refused(priority: number, ids: readonly number[]): void {
    this.#plans.set(priority, afterRefusal(this.#plans.get(priority) ?? [], ids));
  }

  /** Sizes of the lane's pieces (for logs). */
  pieces(priority: number): number[] {
    return (this.#plans.get(priority) ?? []).map((p) => p.length);
  }
}
