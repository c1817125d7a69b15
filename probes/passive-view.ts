/** What one uplink's interface shows without sending anything: observed byte rates, carrier and link facts (refreshed per light round). */
import {
  ratesBetween,
  readCarrier,
  readCounters,
  readLinkFacts,
  trafficProvesThresholds,
  type IfCounters,
  type LinkFacts,
  type ObservedRates,
} from './passive.ts';

/** Link facts (operstate, speed, Wi-Fi signal: a few sysfs and procfs reads) are refreshed this often; carrier every round. */
export const FACTS_EVERY_MS = 30_000;

/** Injectable readers (tests); absent: /proc/net/dev, sysfs and /proc/net/wireless. */
export interface PassiveSources {
  counters?: () => Promise<Map<string, IfCounters>>;
  facts?: (iface: string) => Promise<LinkFacts>;
}

export class PassiveView {
  readonly #iface: string | undefined;
  readonly #src: PassiveSources;
  #counters: { c: IfCounters; atMs: number } | undefined;
  #rates: ObservedRates | undefined;
  #facts: LinkFacts = {};
  #factsAtMs = Number.NEGATIVE_INFINITY;

  constructor(iface: string | undefined, src: PassiveSources) {
    this.#iface = iface;
    this.#src = src;
  }

  /** Reads counters and facts (no-op without an interface); never throws. Returns the facts. */
  async refresh(nowMs: number): Promise<LinkFacts> {
    const iface = this.#iface;
    if (!iface) return this.#facts;
    if (nowMs - this.#factsAtMs >= FACTS_EVERY_MS) {
      this.#factsAtMs = nowMs;
      this.#facts = await (this.#src.facts ?? readLinkFacts)(iface).catch(() => ({}));
    } else if (!this.#src.facts) {
      // Carrier changes must show within one round, not at the next 30 s facts refresh.
      const carrier = await readCarrier(iface);
      if (carrier !== undefined) this.#facts = { ...this.#facts, carrier };
    }
    const c = (await (this.#src.counters ?? readCounters)().catch(() => new Map<string, IfCounters>())).get(iface);
    if (!c) return this.#facts;
    if (this.#counters) this.#rates = ratesBetween(this.#counters.c, this.#counters.atMs, c, nowMs) ?? this.#rates;
    this.#counters = { c, atMs: nowMs };
    return this.#facts;
  }

  /** The observed rates when real traffic already proves both thresholds (an active test can be skipped), else null. */
  provesThresholds(downMbps: number | undefined, upMbps: number | undefined): ObservedRates | null {
    return this.#rates && trafficProvesThresholds(this.#rates, downMbps, upMbps) ? this.#rates : null;
  }

  /** `{ carrier }` when known, for samples. */
  carrierField(): { carrier?: boolean } {
    return this.#facts.carrier !== undefined ? { carrier: this.#facts.carrier } : {};
  }

  rates(): ObservedRates | undefined {
    return this.#rates;
  }

  facts(): LinkFacts {
    return this.#facts;
  }
}
