/** Runs at most one drain per down episode in the background; aborts it when the link recovers or the agent stops. */
import type { Clock } from '../base/clock.ts';
import { messageOf } from '../base/errors.ts';
import type { Logger } from '../base/log.ts';
import type { NodeApi } from './api.ts';
import type { KubernetesConfig } from '../config/k8s.ts';
import { drainNode, type DrainResult } from './drain.ts';
import { EMPTYDIR_CONFIG_KEY, type SkipKind } from './drain-select.ts';

export interface DrainStatus {
  running: boolean;
  result?: DrainResult;
  /** One line for people: counts, and what was left and why (set once the drain ended). */
  summary?: string;
}

/** One-line outcome of a drain, naming pods left for their emptyDir volumes and how to change that. */
export function summarizeDrain(r: DrainResult): string {
  const evicted = `${r.evicted.length} evicted${r.unconfirmed.length ? ` (${r.unconfirmed.length} not yet seen gone)` : ''}`;
  const remaining = `${r.remaining.length} remaining${r.ended === 'timeout' ? ' (time budget spent)' : r.ended === 'stopped' && r.remaining.length ? ' (not evicted: drain stopped)' : ''}`;
  const parts = [evicted, `${r.skipped.length} skipped`, remaining];
  if (r.ended === 'stopped') parts.push('stopped early (link recovered or agent stopping)');
  if (r.emptyDirLeft.length > 0)
    parts.push(`${r.emptyDirLeft.length} left for emptyDir data (${r.emptyDirLeft.join(', ')}; set ${EMPTYDIR_CONFIG_KEY}: true to evict them)`);
  if (r.emptyDirEvicted.length > 0) parts.push(`emptyDir data deleted with ${r.emptyDirEvicted.join(', ')}`);
  return `drain: ${parts.join('; ')}`;
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
  onSkip?: (kind: SkipKind) => void;
}

export class DrainEpisodes {
  #episode: Episode | null = null;
  /** The last episode, kept for status after it was stopped (its result lands when the aborted drain returns). */
  #last: Episode | null = null;
  readonly #deps: DrainEpisodeDeps;

  constructor(deps: DrainEpisodeDeps) {
    this.#deps = deps;
  }

  /** Called after every successful reconcile with whether the tier wants a drain now. */
  update(wanted: boolean, api: NodeApi): void {
    if (!wanted) {
      // Link recovered (or drain no longer allowed): stop evicting; the next down episode may drain again.
      this.#episode?.abort.abort();
      if (this.#episode) this.#last = this.#episode;
      this.#episode = null;
      return;
    }
    if (this.#episode || this.#deps.cfg.dryRun) return;
    const ep: Episode = { running: true, abort: new AbortController() };
    this.#episode = ep;
    this.#last = ep;
    const { cfg, clock, log, nodeName, onEviction, onSkip } = this.#deps;
    const deleteEmptyDirData = cfg.drain.deleteEmptyDirData;
    log.warn(
      { node: nodeName, deleteEmptyDirData },
      `draining node (Eviction API; PodDisruptionBudgets respected; never forced; pods with emptyDir volumes ${deleteEmptyDirData ? 'evicted' : 'left'})`,
    );
    void drainNode(api, nodeName, {
      timeoutMs: cfg.drain.timeoutSeconds * 1000,
      retryMs: cfg.drain.retrySeconds * 1000,
      deleteEmptyDirData,
      clock,
      log,
      signal: ep.abort.signal,
      ...(onEviction ? { onEviction } : {}),
      ...(onSkip ? { onSkip } : {}),
    })
      .then((result) => {
        ep.running = false;
        ep.result = result;
        ep.summary = summarizeDrain(result);
        log.info({ ...result, summary: ep.summary }, 'drain finished');
      })
      .catch((e: unknown) => {
        ep.running = false;
        ep.result = {
          evicted: [],
          skipped: [],
          emptyDirLeft: [],
          emptyDirEvicted: [],
          remaining: [],
          unconfirmed: [],
          ended: ep.abort.signal.aborted ? 'stopped' : 'done',
          timedOut: false,
        };
        ep.summary = `drain failed: ${messageOf(e)}; pods stay (never forced)`;
        log.warn({ err: messageOf(e) }, 'drain failed; pods stay (never forced)');
      });
  }

  abort(): void {
    this.#episode?.abort.abort();
  }

  status(): DrainStatus | null {
    const e = this.#episode ?? this.#last;
    return e ? { running: e.running, ...(e.result ? { result: e.result } : {}), ...(e.summary ? { summary: e.summary } : {}) } : null;
  }
}
