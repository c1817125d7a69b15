/** Runs at most one drain per down episode in the background; aborts it when the link recovers or the agent stops. */
import type { Clock } from '../clock.ts';
import { messageOf } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { NodeApi } from './api.ts';
import type { KubernetesConfig } from './config.ts';
import { drainNode, type DrainResult } from './drain.ts';

export interface DrainStatus {
  running: boolean;
  result?: DrainResult;
}

interface Episode extends DrainStatus {
  abort: AbortController;
}

export interface DrainEpisodeDeps {
  nodeName: string;
  cfg: KubernetesConfig;
  clock: Clock;
  log: Logger;
  onEviction?: (r: 'ok' | 'blocked' | 'error') => void;
}

export class DrainEpisodes {
  #episode: Episode | null = null;
  readonly #deps: DrainEpisodeDeps;

  constructor(deps: DrainEpisodeDeps) {
    this.#deps = deps;
  }

  /** Called after every successful reconcile with whether the tier wants a drain now. */
  update(wanted: boolean, api: NodeApi): void {
    if (!wanted) {
      // Link recovered (or drain no longer allowed): stop evicting; the next down episode may drain again.
      this.#episode?.abort.abort();
      this.#episode = null;
      return;
    }
    if (this.#episode || this.#deps.cfg.dryRun) return;
    const ep: Episode = { running: true, abort: new AbortController() };
    this.#episode = ep;
    const { cfg, clock, log, nodeName, onEviction } = this.#deps;
    log.warn({ node: nodeName }, 'draining node (Eviction API; PodDisruptionBudgets respected; never forced)');
    void drainNode(api, nodeName, { timeoutMs: cfg.drain.timeoutSeconds * 1000, retryMs: cfg.drain.retrySeconds * 1000, clock, log, signal: ep.abort.signal, ...(onEviction ? { onEviction } : {}) })
      .then((result) => {
        ep.running = false;
        ep.result = result;
        log.info({ ...result }, 'drain finished');
      })
      .catch((e: unknown) => {
        ep.running = false;
        ep.result = { evicted: [], skipped: [], remaining: [], timedOut: true };
        log.warn({ err: messageOf(e) }, 'drain failed; pods stay (never forced)');
      });
  }

  abort(): void {
    this.#episode?.abort.abort();
  }

  status(): DrainStatus | null {
    const e = this.#episode;
    return e ? { running: e.running, ...(e.result ? { result: e.result } : {}) } : null;
  }
}
