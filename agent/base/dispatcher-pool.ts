/** A sink's swappable connection pool: after the active uplink changes, new requests open fresh connections (the new route's source address) while the old pool drains. */
import { systemClock, type Clock } from './clock.ts';

/**
 * Why: a keep-alive connection keeps the source address it was opened with, and linkward's own per-uplink rule
 * (`ip rule from <old src> lookup <old table>`) keeps such a connection on the old uplink after a failover, so
 * telemetry would never cross the new one while the pool stays warm (defect D1 of the edge-site lab).
 */

/** What the rotation needs of a dispatcher: undici's Pool/Agent (graceful close, hard destroy); fakes in tests. */
export interface RetirableDispatcher {
  close(): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * How long a retired pool may finish a request already on the wire before its sockets are destroyed (that request
 * then fails with no answer and the forwarder retries it on the new pool, so nothing acknowledged is lost). 5 s lets a
 * batch over a slow old uplink complete; a request stuck on a dead one does not wait for the 30 s headers timeout.
 */
export const RETIRE_GRACE_MS = 5_000;

export interface RotatingOptions {
  graceMs?: number;
  /** Timer source (default real time; tests pass a ManualClock). */
  clock?: Pick<Clock, 'setTimer'>;
}

export class RotatingDispatcher<D extends RetirableDispatcher> {
  readonly #factory: () => D;
  readonly #graceMs: number;
  readonly #clock: Pick<Clock, 'setTimer'>;
  #current: D;
  /** Retired pools still draining, with the promise that settles when each is closed or destroyed. */
  readonly #retiring = new Map<D, Promise<void>>();
  #rotations = 0;
  #closed = false;

  constructor(factory: () => D, o: RotatingOptions = {}) {
    this.#factory = factory;
    this.#graceMs = o.graceMs ?? RETIRE_GRACE_MS;
    this.#clock = o.clock ?? systemClock;
    this.#current = factory();
  }

  /** The pool new requests go to. */
  get current(): D {
    return this.#current;
  }

  /** Pools replaced so far (status, tests). */
  get rotations(): number {
    return this.#rotations;
  }

  /** Pools retired and not yet closed. */
  get draining(): number {
    return this.#retiring.size;
  }

  /** Builds a fresh pool for the next requests and retires the old one (in-flight requests finish, or fail after the grace and are retried). */
  rotate(): void {
    if (this.#closed) return;
    const old = this.#current;
    this.#current = this.#factory();
    this.#rotations += 1;
    this.#retire(old);
  }

  #retire(old: D): void {
    const done = new Promise<void>((resolve) => {
      let settled = false;
      const finish = (): void => {
        if (settled) return;
        settled = true;
        cancel();
        this.#retiring.delete(old);
        resolve();
      };
      const cancel = this.#clock.setTimer(
        this.#graceMs,
        () =>
          void old
            .destroy()
            .catch(() => undefined)
            .then(finish),
      );
      void old
        .close()
        .catch(() => undefined)
        .then(finish);
    });
    this.#retiring.set(old, done);
  }

  /** Destroys the current pool and every draining one (agent stop). */
  async close(): Promise<void> {
    this.#closed = true;
    const all = [this.#current, ...this.#retiring.keys()];
    await Promise.all(all.map((d) => d.destroy().catch(() => undefined)));
  }
}

/**
 * Listener for the bus's `active` event: calls `onChange` when the failover announces an uplink other than the last
 * one seen (starting from `initial`, the bus's latest); `null` (no opinion) changes nothing, so it is ignored.
 */
export function onActiveUplinkChange(initial: string | null, onChange: (from: string | null, to: string) => void): (name: string | null) => void {
  let last = initial;
  return (name) => {
    if (name === null || name === last) return;
    const from = last;
    last = name;
    onChange(from, name);
  };
}
