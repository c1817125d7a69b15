/** NodeApi decorator shared by every request path: one backoff window after the API fails to answer, and reachability. */
import { codeOf, LwError } from '../base/errors.ts';
import type { Clock } from '../base/clock.ts';
import type { NodeApi, NodeWatchOptions } from './api.ts';
import { backoffDelayMs } from './backoff.ts';
import { K8sErrorCode } from './errors.ts';
import { API_METHODS } from './metered-api.ts';

/** Codes that mean "the API server did not answer usefully": these open the backoff window. Any other answer (404, 409, 403, a PDB's 429) proves it is reachable. */
const UNREACHABLE_CODES: ReadonlySet<string> = new Set([K8sErrorCode.UNAVAILABLE, K8sErrorCode.TIMEOUT]);

export interface ApiReachability {
  /** null until the first answer or failure. */
  up: boolean | null;
  /** Wall time of the last request the API answered (any status but 5xx/timeout/refused). */
  lastSuccessMs: number | null;
  lastFailureMs: number | null;
  /** Consecutive unanswered requests (the backoff exponent). */
  failures: number;
  /** Monotonic time before which no request is sent (0 = open). */
  closedUntilMonoMs: number;
}

export interface GateDeps {
  clock: Clock;
  maxBackoffMs: number;
  /** A probe not answered within this (the request timeout) no longer blocks the next one. */
  probeTimeoutMs: number;
  /** Jitter source in [0,1). */
  random: () => number;
  /** Called after every change of reachability (metrics). */
  onChange?: (r: Readonly<ApiReachability>) => void;
}

/**
 * Wraps `api` so that after a request the API did not answer, every further request (reconcile, fleet Lease, Events,
 * drain, release) fails at once with LW_K8S_UNAVAILABLE, without touching the network, until the full-jitter backoff
 * window has passed. The first request after the window is the probe: an answer closes the outage, a failure doubles
 * the ceiling; until it is answered every other request fails locally too (half-open: one probe at a time). Requests
 * already in flight when the window opens are not cancelled.
 */
export class ApiGate {
  readonly api: NodeApi;
  readonly #deps: GateDeps;
  #probing = false;
  /** Bumped by pathChanged(): requests stamped with an older value no longer move the backoff. */
  #path = 0;
  #probeSinceMono = 0;
  readonly #r: ApiReachability = { up: null, lastSuccessMs: null, lastFailureMs: null, failures: 0, closedUntilMonoMs: 0 };

  constructor(inner: NodeApi, deps: GateDeps) {
    this.#deps = deps;
    const out: Record<string, unknown> = { source: inner.source, close: inner.close?.bind(inner), reconnect: inner.reconnect?.bind(inner) };
    for (const method of API_METHODS) {
      const fn = (inner[method] as (...a: unknown[]) => Promise<unknown>).bind(inner);
      out[method] = async (...args: unknown[]) => {
        const probe = this.#check();
        // Outcomes of requests sent over an older path (before pathChanged) say nothing about the current one.
        const path = this.#path;
        let settled = false;
        const settle = (): boolean => {
          if (settled) return false;
          settled = true;
          if (probe && path === this.#path) this.#probing = false;
          return path === this.#path;
        };
        const answered = (): void => {
          if (settle()) this.#answered();
        };
        // A watch is answered when its stream opens, not when it ends (maybe an hour later).
        if (method === 'watchNode') {
          const o = args[1] as NodeWatchOptions;
          args[1] = {
            ...o,
            onOpen: () => {
              answered();
              o.onOpen?.();
            },
          };
        }
        try {
          const r = await fn(...args);
          // A watch that ends without having opened (aborted while connecting) got no answer: nothing is learned.
          if (method === 'watchNode') settle();
          else answered();
          return r;
        } catch (e) {
          const unreachable = UNREACHABLE_CODES.has(codeOf(e));
          if (!settled) {
            if (settle()) {
              if (unreachable) this.#failed();
              else this.#answered();
            }
          } else if (unreachable && path === this.#path) this.#failed(); // a stream that broke after it opened
          throw e;
        }
      };
    }
    this.api = out as unknown as NodeApi;
  }

  get reachability(): Readonly<ApiReachability> {
    return { ...this.#r };
  }

  /** Milliseconds until requests may be sent again (0 = now). */
  waitMs(): number {
    return Math.max(0, this.#r.closedUntilMonoMs - this.#deps.clock.monoMs());
  }

  /** Throws (request not sent) while the window is open or another request is the probe; returns whether this one is the probe. */
  #check(): boolean {
    const wait = this.waitMs();
    if (wait > 0) {
      throw new LwError(K8sErrorCode.UNAVAILABLE, `Kubernetes API unreachable; backing off (${Math.ceil(wait / 100) / 10} s left, request not sent)`, {
        context: { notSent: true },
      });
    }
    if (this.#r.failures === 0) return false;
    // Half-open: after a window, exactly one request goes out to find out whether the API is back.
    if (this.#probing && this.#deps.clock.monoMs() - this.#probeSinceMono < this.#deps.probeTimeoutMs)
      throw new LwError(K8sErrorCode.UNAVAILABLE, 'Kubernetes API unreachable; another request is probing it (request not sent)', {
        context: { notSent: true },
      });
    this.#probing = true;
    this.#probeSinceMono = this.#deps.clock.monoMs();
    return true;
  }

  /**
   * The path to the API server changed (the active uplink): the failures that opened the window were seen on the old
   * path and say nothing about the new one, so the backoff starts over, as after an answer: the window closes and
   * requests go out at once (the watch re-opening and a pending pass together; one probe at a time would make the other
   * fail locally and back off). If the server itself is down, the backoff builds up again from its first step. Failovers
   * are rare (failback is capped per hour), so this costs a few requests per failover at most. Requests still on the
   * old path (a hang on a blackholed uplink ends in a timeout seconds later) no longer count, either way.
   */
  pathChanged(): void {
    this.#path++;
    if (this.#r.failures === 0 && this.#r.closedUntilMonoMs === 0) return;
    this.#r.failures = 0;
    this.#r.closedUntilMonoMs = 0;
    this.#probing = false; // a probe in flight went over the old path
    this.#deps.onChange?.(this.#r);
  }

  #answered(): void {
    this.#r.up = true;
    this.#r.failures = 0;
    this.#r.closedUntilMonoMs = 0;
    this.#r.lastSuccessMs = this.#deps.clock.nowMs();
    this.#deps.onChange?.(this.#r);
  }

  #failed(): void {
    this.#r.up = false;
    this.#r.failures++;
    this.#r.lastFailureMs = this.#deps.clock.nowMs();
    const until = this.#deps.clock.monoMs() + backoffDelayMs(this.#r.failures, this.#deps.maxBackoffMs, this.#deps.random());
    // Several requests in flight may fail together: the window is the latest of their draws, opened once per failure.
    this.#r.closedUntilMonoMs = Math.max(this.#r.closedUntilMonoMs, until);
    this.#deps.onChange?.(this.#r);
  }
}
