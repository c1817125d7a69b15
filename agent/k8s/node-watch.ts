/** Keeps the own Node current with one watch (fieldSelector metadata.name, bookmarks); a list of that one Node at start and after 410 Gone. */
import type { Clock } from '../base/clock.ts';
import { codeOf, LwError, messageOf } from '../base/errors.ts';
import type { Logger } from '../base/log.ts';
import type { NodeApi, NodeWatchEvent } from './api.ts';
import { backoffDelayMs } from './backoff.ts';
import { K8sErrorCode } from './errors.ts';
import type { NodeView } from './types.ts';

/**
 * Length of one watch request, drawn per request in [MIN, MAX): kube-apiserver ends watches after its
 * --min-request-timeout (1800 s) randomised up to twice that, so asking for the same range costs ~1.3 requests/h.
 */
export const WATCH_MIN_S = 1800;
export const WATCH_MAX_S = 3600;
/**
 * No event and no bookmark for this long: the stream is presumed dead (a NAT on a cellular link dropped the idle TCP
 * connection without a reset) and is re-opened. kube-apiserver sends a bookmark to watches that allow them about
 * once a minute, so 2.5 min is two missed bookmarks plus slack.
 */
export const WATCH_IDLE_MS = 150_000;
/** A watch that ends normally sooner than this is treated as a failure (backoff), so a server that closes at once cannot make a hot loop. */
export const WATCH_MIN_LIFETIME_MS = 1_000;

export interface NodeWatcherDeps {
  api: NodeApi;
  nodeName: string;
  clock: Clock;
  log: Logger;
  random: () => number;
  maxBackoffMs: number;
  /** Milliseconds the shared API gate still holds requests back (0 = open). */
  gateWaitMs: () => number;
  /** A newer Node (from the first read, a re-read or a watch event); null when it was deleted. */
  onNode: (node: NodeView | null) => void;
  /** The watch or its read failed (status and logs); it retries by itself after `retryInMs`. */
  onError?: (e: unknown, retryInMs: number) => void;
}

export interface WatchStats {
  reads: number;
  watches: number;
  gone: number;
  events: number;
  bookmarks: number;
  idleRestarts: number;
  /** Watches re-opened because the active uplink changed (reopen()). */
  pathRestarts: number;
}

/** Numeric resourceVersions are compared; opaque ones are taken as newer (the contract says opaque; etcd's are numbers). */
function newer(a: string, than: string): boolean {
  return /^\d+$/.test(a) && /^\d+$/.test(than) ? BigInt(a) > BigInt(than) : a !== than;
}

export class NodeWatcher {
  readonly #d: NodeWatcherDeps;
  #node: NodeView | null = null;
  #rv: string | null = null;
  #stopped = false;
  #abort: AbortController | null = null;
  #cancelWait: (() => void) | null = null;
  /** Ends the backoff wait now (reopen()). */
  #wakeWait: (() => void) | null = null;
  /** Set while a watch request is open: ends it as renewed, so the loop opens the next one at once. */
  #renew: (() => void) | null = null;
  /** reopen() came while a list was in flight on the old path: if it fails, retry at once rather than after a backoff. */
  #retryAtOnce = false;
  #failures = 0;
  #listing: Promise<{ node: NodeView | null; resourceVersion: string }> | null = null;
  #goneInARow = 0;
  readonly stats: WatchStats = { reads: 0, watches: 0, gone: 0, events: 0, bookmarks: 0, idleRestarts: 0, pathRestarts: 0 };

  constructor(deps: NodeWatcherDeps) {
    this.#d = deps;
  }

  /** The latest Node seen (may be stale while the API is unreachable; writes carry resourceVersion preconditions). */
  get node(): NodeView | null {
    return this.#node;
  }

  start(): void {
    void this.#loop();
  }

  stop(): void {
    this.#stopped = true;
    this.#abort?.abort();
    this.#cancelWait?.();
    this.#wakeWait?.();
  }

  /**
   * The path to the API server changed (failover or failback): the open stream's connection keeps its old source address
   * and route, so it would stay silent until WATCH_IDLE_MS. It is re-opened now from the same resourceVersion; a retry
   * waiting out its backoff runs now too (the caller reopens the API gate for the new path first).
   */
  reopen(reason: string): void {
    if (this.#stopped) return;
    this.stats.pathRestarts++;
    this.#failures = 0; // the backoff built up on the old path starts over
    this.#d.log.info({ reason }, 'node watch: re-opening it on the new path');
    if (this.#renew) this.#renew();
    else if (this.#wakeWait) this.#wakeWait();
    else this.#retryAtOnce = true;
  }

  /** Reads the Node fresh (one list request however many callers ask at once) and keeps it as the latest. */
  read(): Promise<NodeView> {
    return this.#list().then((l) => {
      if (!l.node) throw new LwError(K8sErrorCode.NOT_FOUND, `node ${this.#d.nodeName} not found`);
      return l.node;
    });
  }

  #list(): Promise<{ node: NodeView | null; resourceVersion: string }> {
    this.#listing ??= this.#d.api
      .listOwnNode(this.#d.nodeName)
      .then((l) => {
        this.stats.reads++;
        this.#node = l.node;
        return l;
      })
      .finally(() => {
        this.#listing = null;
      });
    return this.#listing;
  }

  /** A write's answer is the Node as of that write: keep it unless the watch already delivered something newer. */
  noteWritten(node: NodeView): void {
    if (!this.#node || newer(node.resourceVersion, this.#node.resourceVersion)) this.#node = node;
  }

  async #loop(): Promise<void> {
    const { clock, log } = this.#d;
    while (!this.#stopped) {
      try {
        if (this.#rv === null) {
          // Re-list (not GET): the list's resourceVersion is current even when the Node's own is older than the history.
          const l = await this.#list();
          this.#rv = l.resourceVersion;
          this.#d.onNode(l.node);
        }
        const started = clock.monoMs();
        const ended = await this.#watchOnce(this.#rv);
        if (ended === 'closed' && clock.monoMs() - started < WATCH_MIN_LIFETIME_MS)
          throw new LwError(K8sErrorCode.UNAVAILABLE, 'watch closed at once by the server');
        this.#failures = 0;
        this.#goneInARow = 0;
      } catch (e) {
        if (this.#stopped) return;
        if (codeOf(e) === K8sErrorCode.GONE && this.#goneInARow++ === 0) {
          // Too old for the server's history: list the Node again and watch from the list's resourceVersion.
          this.stats.gone++;
          log.info({ rv: this.#rv }, 'node watch: resourceVersion expired (410); listing the node again');
          this.#rv = null;
          continue;
        }
        if (codeOf(e) === K8sErrorCode.GONE) {
          this.stats.gone++;
          this.#rv = null; // 410 right after a fresh list: back off before listing again
        }
        if (this.#retryAtOnce) {
          this.#retryAtOnce = false;
          continue;
        }
        this.#failures++;
        // The resourceVersion is kept: the next watch resumes from it (a 410 then says it is too old), as client-go does.
        const delay = Math.max(this.#d.gateWaitMs(), backoffDelayMs(this.#failures, this.#d.maxBackoffMs, this.#d.random()));
        if (codeOf(e) === K8sErrorCode.NOT_FOUND) this.#d.onNode(null);
        this.#d.onError?.(e, delay);
        log.warn({ code: codeOf(e), err: messageOf(e), failures: this.#failures, retryInMs: delay }, 'node watch failed; will retry');
        await new Promise<void>((resolve) => {
          this.#cancelWait = clock.setTimer(delay, resolve);
          this.#wakeWait = resolve;
        });
        this.#cancelWait?.();
        this.#cancelWait = null;
        this.#wakeWait = null;
      }
    }
  }

  /** One watch request from `rv`; 'closed' when the server ended it, 'renewed' when we did (duration or idle). */
  async #watchOnce(rv: string): Promise<'closed' | 'renewed'> {
    const { api, nodeName, clock } = this.#d;
    const ac = new AbortController();
    this.#abort = ac;
    const durationS = Math.floor(WATCH_MIN_S + this.#d.random() * (WATCH_MAX_S - WATCH_MIN_S));
    let renewed = false;
    const cancelEnd = clock.setTimer(durationS * 1000, () => {
      renewed = true;
      ac.abort();
    });
    let cancelIdle = (): void => undefined;
    const armIdle = (): void => {
      cancelIdle();
      cancelIdle = clock.setTimer(WATCH_IDLE_MS, () => {
        renewed = true;
        this.stats.idleRestarts++;
        this.#d.log.info({ idleMs: WATCH_IDLE_MS }, 'node watch silent (no bookmark); re-opening it');
        ac.abort();
      });
    };
    armIdle();
    this.#renew = () => {
      renewed = true;
      ac.abort();
    };
    this.#retryAtOnce = false; // this request goes over the current path
    this.stats.watches++;
    try {
      await api.watchNode(nodeName, {
        resourceVersion: rv,
        timeoutSeconds: durationS,
        signal: ac.signal,
        onEvent: (e) => {
          armIdle();
          this.#onEvent(e);
        },
      });
    } finally {
      cancelEnd();
      cancelIdle();
      this.#abort = null;
      this.#renew = null;
    }
    return renewed ? 'renewed' : 'closed';
  }

  #onEvent(e: NodeWatchEvent): void {
    if (e.type === 'BOOKMARK') {
      this.stats.bookmarks++;
      if (e.resourceVersion) this.#rv = e.resourceVersion;
      return;
    }
    this.stats.events++;
    if (e.type === 'DELETED') {
      this.#node = null;
      this.#rv = null;
      this.#abort?.abort();
      this.#d.onNode(null);
      return;
    }
    this.#rv = e.node.resourceVersion;
    // The event of our own write may arrive after its answer was cached: never step back to an older Node.
    if (this.#node && newer(this.#node.resourceVersion, e.node.resourceVersion)) return;
    this.#node = e.node;
    this.#d.onNode(e.node);
  }
}
