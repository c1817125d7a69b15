/** Which configured targets an uplink probes this round: those it has a source address for; the rest set aside, logged once. */
import type { Logger } from '../agent/base/log.ts';
import { probeableTargets, type UplinkSources } from './source.ts';
import type { ProbeTarget } from './targets.ts';

/** A target set aside and why (no source address of its family on this uplink). */
export interface Unprobed {
  id: string;
  problem: string;
}

/** One round's pool. */
export interface PoolRound {
  sources: UplinkSources;
  /** Why the round fails as a whole (no IPv4 source, or no target usable), over every target; null: it runs. */
  failure: string | null;
  /** The targets this round chooses from (every target when the round fails, as before dual-stack probing). */
  pool: ProbeTarget[];
  /** The pool differs from the previous round's (an IPv6 address came or went): the planner starts over. */
  changed: boolean;
  /** Targets newly set aside this round: their verdicts and metric series must go, not freeze. */
  gone: string[];
}

export class TargetPool {
  readonly #targets: readonly ProbeTarget[];
  readonly #resolve: () => UplinkSources;
  readonly #log: Logger;
  readonly #uplink: string;
  #skipped: { sinceMs: number; targets: Unprobed[] } = { sinceMs: 0, targets: [] };
  #poolKey: string | undefined;

  constructor(uplink: string, targets: readonly ProbeTarget[], resolve: () => UplinkSources, log: Logger) {
    this.#uplink = uplink;
    this.#targets = targets;
    this.#resolve = resolve;
    this.#log = log;
  }

  /** The uplink's sources now (throughput tests choose theirs by the URL host's family). */
  sources(): UplinkSources {
    return this.#resolve();
  }

  /** Resolves the sources and the pool for a round at `nowMs`. */
  round(nowMs: number): PoolRound {
    const sources = this.#resolve();
    const { usable, skipped, fatal } = probeableTargets(this.#targets, sources);
    const failing = fatal !== undefined || usable.length === 0;
    const gone = this.#note(failing ? [] : skipped, nowMs);
    const pool = failing ? [...this.#targets] : usable;
    const key = pool.map((t) => t.id).join('\n');
    const changed = this.#poolKey !== undefined && key !== this.#poolKey;
    this.#poolKey = key;
    const failure = failing ? (fatal ?? [...new Set(skipped.map((k) => k.problem))].join('; ')) : null;
    return { sources, failure, pool, changed, gone };
  }

  /** Targets set aside, since when (undefined: none). */
  unprobed(): { sinceMs: number; targets: readonly Unprobed[] } | undefined {
    return this.#skipped.targets.length > 0 ? this.#skipped : undefined;
  }

  /** Logs the set when it changes; returns the ids newly set aside. */
  #note(skipped: readonly Unprobed[], nowMs: number): string[] {
    const key = (l: readonly Unprobed[]): string => l.map((k) => `${k.id}: ${k.problem}`).join('\n');
    if (key(skipped) === key(this.#skipped.targets)) return [];
    if (skipped.length > 0)
      this.#log.warn({ uplink: this.#uplink, unprobed: skipped.map((k) => `${k.id}: ${k.problem}`) }, 'probe targets not probed through this uplink');
    this.#skipped = { sinceMs: nowMs, targets: [...skipped] };
    return skipped.map((k) => k.id);
  }
}
