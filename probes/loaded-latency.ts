/** Idle and loaded round-trip time around one throughput direction (responsiveness, as Apple networkQuality and Cloudflare report it). */
import type { Clock } from '../agent/base/clock.ts';
import { median } from './stats.ts';
import type { ByteLedger } from './probe-bytes.ts';
import type { Preset } from './presets.ts';
import { proberFor, type RttProber } from './rtt-probers.ts';
import { fillRttMs, timeCapFor } from './throughput-options.ts';

/** Pings before the load starts: 3 give a median that one delayed answer cannot move. */
export const IDLE_SAMPLES = 3;
/** Spacing of idle pings (ms): short, the load waits for them. */
export const IDLE_SPACING_MS = 20;
/** Loaded pings every 200 ms (5/s): cheap (≈ 150 B each over UDP) and ≥ 5 samples in a 1 s direction. */
export const LOADED_INTERVAL_MS = 200;
/** At the stop, unanswered pings get this many times the median loaded RTT more before they are dropped (not lost). */
export const STOP_GRACE_RTTS = 2;
/** ...at least this long (ms), so a sub-millisecond lab link still lets the last answers in. */
export const MIN_STOP_GRACE_MS = 20;

/** Idle vs loaded RTT of one direction. */
export interface LatencyFigures {
  /** Median RTT of the idle pings just before the load (ms). */
  idleMs?: number;
  /** Median RTT of the pings answered during the load (ms). */
  loadedMs?: number;
  /** Pings during the load that were answered within the timeout. */
  loadedSamples: number;
  /** Pings during the load with no answer within the timeout (a late answer is a loss). */
  loadedLost: number;
  /** Responsiveness: round trips per minute under load, 60000 / loadedMs. */
  rpm?: number;
}

/** Wire bytes `pings` pings of `prober` can cost, with the connection's setup for HTTP. */
export function latencyReserveBytes(prober: Pick<RttProber, 'pingBytes' | 'kind'>, durationMs: number): number {
  const pings = IDLE_SAMPLES + 1 + Math.ceil(durationMs / LOADED_INTERVAL_MS) + 1;
  return pings * prober.pingBytes + (prober.kind === 'http' ? 500 : 0);
}

/**
 * Runs the pings of one direction: `idle()` before the load, `start()` when it begins, `stop()` when it ends. Pings
 * stop once their bytes would pass `reserveBytes` (what the probe's byte cap set aside for them).
 */
export class LatencySession {
  readonly #prober: RttProber;
  readonly #clock: Clock;
  readonly #reserveBytes: number;
  readonly #idle: number[] = [];
  readonly #loaded: number[] = [];
  readonly #pending = new Set<Promise<void>>();
  #lost = 0;
  #busy = false;
  #cancel: (() => void) | undefined;
  #stopped = false;

  constructor(prober: RttProber, clock: Clock, reserveBytes: number) {
    this.#prober = prober;
    this.#clock = clock;
    this.#reserveBytes = reserveBytes;
  }

  get kind(): RttProber['kind'] {
    return this.#prober.kind;
  }

  /** Wire bytes used by the pings so far. */
  bytes(): number {
    return this.#prober.bytes();
  }

  /** Median idle RTT (ms) of the pings before the load; undefined without an answer. */
  idleMs(): number | undefined {
    return median(this.#idle);
  }

  /** Median loaded RTT so far (ms), for the in-flight estimate; undefined before the first answer. */
  loadedMs(): number | undefined {
    return median(this.#loaded);
  }

  #affordable(): boolean {
    return this.#prober.bytes() + this.#prober.pingBytes <= this.#reserveBytes;
  }

  /** IDLE_SAMPLES pings one after another (HTTP: the first one opens the connection and is not counted). */
  async idle(): Promise<void> {
    if (this.#prober.kind === 'http' && this.#affordable()) await this.#prober.ping();
    for (let i = 0; i < IDLE_SAMPLES && this.#affordable(); i++) {
      if (i > 0) await this.#clock.sleep(IDLE_SPACING_MS);
      const rtt = await this.#prober.ping();
      if (rtt === null) return; // no answer: the load does not wait for more (loaded pings will tell)
      this.#idle.push(rtt);
    }
  }

  /** Starts loaded pings every LOADED_INTERVAL_MS (the first at once). */
  start(): void {
    const tick = (): void => {
      if (this.#stopped) return;
      this.#send();
      this.#cancel = this.#clock.setTimer(LOADED_INTERVAL_MS, tick);
    };
    tick();
  }

  #send(): void {
    if ((this.#busy && !this.#prober.overlapping) || !this.#affordable()) return;
    this.#busy = true;
    const p = this.#prober.ping().then((rtt) => {
      this.#busy = false;
      this.#pending.delete(p);
      if (this.#stopped) return;
      if (rtt === null) this.#lost++;
      else this.#loaded.push(rtt);
    });
    this.#pending.add(p);
  }

  /** Ends the loaded pings; waits a short grace for answers in flight (those still missing are dropped), closes the prober. */
  async stop(): Promise<LatencyFigures> {
    this.#cancel?.();
    if (this.#pending.size > 0) {
      const grace = Math.max(MIN_STOP_GRACE_MS, STOP_GRACE_RTTS * (median(this.#loaded) ?? 0));
      await Promise.race([Promise.all(this.#pending), this.#clock.sleep(grace)]);
    }
    this.#stopped = true;
    await this.#prober.close();
    return latencyFigures(this.#idle, this.#loaded, this.#lost);
  }
}

/** The figures from raw RTTs (ms). */
export function latencyFigures(idle: readonly number[], loaded: readonly number[], lost: number): LatencyFigures {
  const idleMs = median(idle);
  const loadedMs = median(loaded);
  return {
    ...(idleMs !== undefined ? { idleMs } : {}),
    ...(loadedMs !== undefined ? { loadedMs, rpm: 60_000 / Math.max(loadedMs, 0.001) } : {}),
    loadedSamples: loaded.length,
    loadedLost: lost,
  };
}

/** The pings of one throughput direction, their bytes set aside on its ledger; undefined when the cap cannot spare them. */
export function reservedLatencySession(
  o: { url: string; preset: Preset; clock: Clock; timeoutMs: number; maxDurationMs: number; rttHintMs?: number; sourceAddress?: string; token?: string },
  ledger: ByteLedger,
): LatencySession | undefined {
  const prober = proberFor(o.url, o.preset, {
    clock: o.clock,
    timeoutMs: o.timeoutMs,
    ...(o.sourceAddress ? { sourceAddress: o.sourceAddress } : {}),
    ...(o.token ? { token: o.token } : {}),
  });
  // the pings cover the time cap as it stretches on a long path (the light probes' RTT: the idle pings come later)
  const reserve = latencyReserveBytes(prober, timeCapFor(o.maxDurationMs, fillRttMs(o.rttHintMs)));
  if (!ledger.setAside(reserve)) {
    void prober.close();
    return undefined;
  }
  return new LatencySession(prober, o.clock, reserve);
}
