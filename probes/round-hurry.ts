/** Brings the other uplinks' next light round forward when the active uplink's round gets no quorum. */

/**
 * Tracks the uplinks waiting for their next light round. When the active uplink's round gets no quorum, the others
 * probe now rather than at their settled interval (up to maxIntervalMs), at most once per half base interval each (a
 * dead active uplink fails a round per interval plus timeout, so each failure hurries them once). A forced failover
 * goes only to an uplink that answered after the active one's failure began (agent/route/candidates.ts freshSince):
 * this keeps that from waiting.
 */
export class RoundHurry<K> {
  readonly #minGapMs: number;
  /** Uplinks waiting for their next round, with how to cancel that wait. */
  readonly #waiting = new Map<K, () => void>();
  /** When each was last hurried (monotonic ms). */
  readonly #hurried = new Map<K, number>();

  /** `baseIntervalMs`: probes.intervalMs; an uplink is hurried at most once per half of it. */
  constructor(baseIntervalMs: number) {
    this.#minGapMs = baseIntervalMs / 2;
  }

  /** `key` waits for its next round; `cancel` stops that wait. */
  waits(key: K, cancel: () => void): void {
    this.#waiting.set(key, cancel);
  }

  /** `key`'s round starts (its wait ended on its own). */
  started(key: K): void {
    this.#waiting.delete(key);
  }

  /**
   * `failed`'s round got no quorum. When it is the active uplink, every other waiting uplink not hurried in the last
   * half base interval has its wait cancelled and is returned: the caller starts their rounds now.
   */
  hurry(failed: K, isActive: boolean, nowMonoMs: number): K[] {
    if (!isActive) return [];
    const out: K[] = [];
    for (const [key, cancel] of this.#waiting) {
      if (key === failed || (this.#hurried.get(key) ?? Number.NEGATIVE_INFINITY) > nowMonoMs - this.#minGapMs) continue;
      this.#hurried.set(key, nowMonoMs);
      cancel();
      this.#waiting.delete(key);
      out.push(key);
    }
    return out;
  }
}
