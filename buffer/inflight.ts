/** Byte budget of ingest bodies in memory (being received or waiting for their commit); over it, requests wait unread. */

/** Bytes held by one request, from admission until its commit ended. */
export class Lease {
  readonly #budget: ByteBudget;
  #held: number;

  constructor(budget: ByteBudget, bytes: number) {
    this.#budget = budget;
    this.#held = bytes;
  }

  get held(): number {
    return this.#held;
  }

  /**
   * Makes the lease cover `total` bytes (a body without Content-Length grows as it arrives): null when it does now,
   * else a promise that resolves once it does — the caller stops reading meanwhile.
   */
  cover(total: number): Promise<void> | null {
    if (total <= this.#held) return null;
    return this.#budget.grow(this, total - this.#held);
  }

  /** Adds bytes granted by the budget (ByteBudget only). */
  add(bytes: number): void {
    this.#held += bytes;
  }

  /** Gives back what the lease holds above `bytes`. */
  shrink(bytes: number): void {
    const back = this.#held - Math.max(0, bytes);
    if (back <= 0) return;
    this.#held -= back;
    this.#budget.giveBack(back);
  }

  /** Gives everything back (idempotent). */
  release(): void {
    this.#budget.forget(this);
    this.shrink(0);
  }
}

interface Waiter {
  bytes: number;
  grant: (lease: Lease) => void;
}

interface Grower {
  lease: Lease;
  bytes: number;
  grant: () => void;
}

/**
 * A request that does not fit waits before its body is read (and a chunked body that outgrows its lease stops being
 * read): Node then stops reading that socket once its small stream buffer is full, so the sender is slowed by TCP
 * instead of the agent holding every body at once. New requests are admitted in arrival order. The oldest lease may
 * always grow and a lone request may always start, so one record larger than the whole budget still gets through
 * and bodies being read can never wait on each other for ever; the budget is thus exceeded by at most one record.
 */
export class ByteBudget {
  readonly limit: number;
  #used = 0;
  /** Leases in admission order (a Set iterates in insertion order). */
  readonly #active = new Set<Lease>();
  readonly #admissions: Waiter[] = [];
  readonly #growers: Grower[] = [];

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Bytes held now. */
  get used(): number {
    return this.#used;
  }

  /** Requests waiting for room (to start, or to read on). */
  get waiting(): number {
    return this.#admissions.length + this.#growers.length;
  }

  /** The lease at once when `bytes` fit and nobody waits (the common case, no promise); null otherwise. */
  tryAcquire(bytes: number): Lease | null {
    const n = Math.max(0, bytes);
    return this.#admissions.length === 0 && this.#fits(n) ? this.#admit(n) : null;
  }

  /** Resolves once `bytes` are held for the caller (after every request that waited before it). */
  acquire(bytes: number): Promise<Lease> {
    const now = this.tryAcquire(bytes);
    if (now !== null) return Promise.resolve(now);
    return new Promise((grant) => this.#admissions.push({ bytes: Math.max(0, bytes), grant }));
  }

  /** Lease.cover: more bytes for a lease, at once when they fit or the lease is the oldest. */
  grow(lease: Lease, bytes: number): Promise<void> | null {
    if (!this.#active.has(lease)) return null; // released: nothing to account any more
    if (this.#fits(bytes) || this.#isOldest(lease)) {
      this.#used += bytes;
      lease.add(bytes);
      return null;
    }
    return new Promise((grant) => this.#growers.push({ lease, bytes, grant }));
  }

  /** Lease.shrink / release: bytes given back; wakes whoever now fits. */
  giveBack(bytes: number): void {
    this.#used -= bytes;
    this.#wake();
  }

  /** Lease.release: the lease ends (and stops waiting to grow). */
  forget(lease: Lease): void {
    if (!this.#active.delete(lease)) return;
    const i = this.#growers.findIndex((g) => g.lease === lease);
    if (i >= 0) this.#growers.splice(i, 1)[0]!.grant();
    this.#wake();
  }

  #fits(n: number): boolean {
    return this.#used === 0 || this.#used + n <= this.limit;
  }

  #isOldest(lease: Lease): boolean {
    return this.#active.values().next().value === lease;
  }

  #admit(n: number): Lease {
    this.#used += n;
    const lease = new Lease(this, n);
    this.#active.add(lease);
    return lease;
  }

  /** Bodies already being read go first (they hold bytes and finish soonest), then new requests in arrival order. */
  #wake(): void {
    for (let i = 0; i < this.#growers.length; ) {
      const g = this.#growers[i]!;
      if (this.#fits(g.bytes) || this.#isOldest(g.lease)) {
        this.#growers.splice(i, 1);
        this.#used += g.bytes;
        g.lease.add(g.bytes);
        g.grant();
      } else i++;
    }
    while (this.#admissions.length > 0 && this.#fits(this.#admissions[0]!.bytes)) {
      const w = this.#admissions.shift()!;
      w.grant(this.#admit(w.bytes));
    }
  }
}
