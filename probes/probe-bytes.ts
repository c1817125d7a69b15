/** Bytes of one throughput probe (pure): wire-byte estimate, the hard cap's reservations, and the line-rate allowance stop rule. */

/**
 * Wire bytes per HTTP stream byte: Ethernet/IP/TCP framing (1514 B frames per 1448 B of payload, +4.6 %), ACKs
 * (≈ +2.5 %) and retransmissions. The probes lab measured 1.05–1.08 on clean links and 1.09–1.10 with 2 % loss each way
 * (interface counters vs payload), so 1.11 keeps the count at or above the real cost up to ≈ 2–3 % loss.
 */
export const WIRE_OVERHEAD_FACTOR = 1.11;
/** HTTP request + response headers per transfer (measured on the linkward server: ≈ 120 + 180). */
export const HTTP_OVERHEAD_BYTES = 300;
/** Per connection: TCP handshake and teardown (≈ 6 frames of 66–74 B). */
export const CONNECTION_OVERHEAD_BYTES = 500;
/** Smallest request worth its HTTP overhead; a smaller remainder of the byte cap is left unused. */
export const MIN_REQUEST_BYTES = 4 * 1024;
/** The allowance: a probe may use what the link carries in this long (per direction). */
export const LINE_RATE_ALLOWANCE_MS = 2_500;
/**
 * Share of that allowance the probe aims for (at the low end of its estimate's 95 % interval): the rest absorbs the
 * latency probe run before it and bytes in flight or retransmitted beyond what the probe can see.
 */
export const ALLOWANCE_SHARE = 0.9;

/** Estimated wire bytes of `streamBytes` moved over HTTP (both directions, headers included) on `connections` connections. */
export function wireBytes(streamBytes: number, connections: number): number {
  return Math.round(streamBytes * WIRE_OVERHEAD_FACTOR + connections * CONNECTION_OVERHEAD_BYTES);
}

/** Wire bytes reserved for one request whose server sends (download) or accepts (upload) `servedBytes`. */
export function requestReserve(servedBytes: number): number {
  return Math.ceil((servedBytes + HTTP_OVERHEAD_BYTES) * WIRE_OVERHEAD_FACTOR);
}

/**
 * The hard byte cap of one probe: every request reserves what it can cost at most (the server never sends more than
 * was asked, and an upload never more than its content-length) before it is made, so the sum over all streams,
 * including whatever is still in flight when the probe stops, never exceeds the cap.
 */
export class ByteLedger {
  readonly capBytes: number;
  #committed: number;

  constructor(capBytes: number, connections: number) {
    this.capBytes = capBytes;
    this.#committed = connections * CONNECTION_OVERHEAD_BYTES;
  }

  /** Wire bytes reserved so far: an upper bound of what the probe can have used. */
  get committedBytes(): number {
    return this.#committed;
  }

  /** Sets `bytes` aside for something other than a request (the RTT pings); false (nothing reserved) when they do not fit. */
  setAside(bytes: number): boolean {
    if (this.#committed + bytes > this.capBytes) return false;
    this.#committed += bytes;
    return true;
  }

  /**
   * Reserves the largest request of at most `askBytes` that still fits and returns its size; 0 (nothing reserved)
   * when less than MIN_REQUEST_BYTES fits. `served` maps a request size to what the server really sends (LibreSpeed
   * rounds up to whole MiB); it must not decrease as the size grows.
   */
  reserve(askBytes: number, served: (bytes: number) => number = (n) => n): number {
    const left = this.capBytes - this.#committed;
    const fits = (n: number): boolean => requestReserve(served(n)) <= left;
    let n = Math.floor(askBytes);
    if (!fits(n)) {
      // largest fitting size by bisection (served may be a step function)
      let lo = 0;
      let hi = n;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (fits(mid)) lo = mid;
        else hi = mid;
      }
      n = lo;
    }
    if (n < MIN_REQUEST_BYTES) return 0;
    this.#committed += requestReserve(served(n));
    return n;
  }
}

/** Bytes per millisecond at `mbps` (10^6 bit/s). */
function bytesPerMs(mbps: number): number {
  return (mbps * 1e6) / 8 / 1000;
}

/** Bytes the line-rate rule lets a probe use when the link carries `mbps`: ALLOWANCE_SHARE of LINE_RATE_ALLOWANCE_MS. */
export function lineRateAllowance(mbps: number): number {
  return ALLOWANCE_SHARE * LINE_RATE_ALLOWANCE_MS * bytesPerMs(Math.max(0, mbps));
}

/**
 * Least a download stream keeps in flight however slow the link: its congestion window (Linux starts at 10 segments
 * and rarely drops below ≈ 4–6). The lab saw 20–30 kB arrive after a 4-stream stop at 2 Mbit/s (tbf queue + burst).
 */
export const MIN_WINDOW_BYTES = 8 * 1024;

/**
 * Download bytes that still arrive after a stop now: what the link delivers while a response waits in the network
 * (`delayMs`: time to first byte of responses queued behind the probe's own data), at least every active stream's
 * minimum window, never more than the requests still outstanding.
 */
export function inFlightBytes(mbps: number, delayMs: number, outstanding: readonly number[]): number {
  const left = outstanding.reduce((a, b) => a + Math.max(0, b), 0);
  const active = outstanding.filter((b) => b > 0).length;
  return Math.min(left, Math.max(bytesPerMs(Math.max(0, mbps)) * Math.max(0, delayMs), active * MIN_WINDOW_BYTES));
}

/**
 * The rate of a window's last part (TREND_TAIL_SHARE) above its whole rate by this factor: the transfer is still
 * ramping up (slow start: the rate doubles every round trip until the path is full). Above the 13–21 % a loss-recovery
 * burst puts on a settled tail (estimator.ts), below what one round trip of doubling puts on a tail of a few RTTs.
 */
export const RAMP_FACTOR = 1.25;

/** Whether a window whose rate is `mbps` and whose last part ran at `recentMbps` was still ramping up. */
export function isRamping(mbps: number, recentMbps: number | undefined): boolean {
  return recentMbps !== undefined && mbps > 0 && recentMbps > RAMP_FACTOR * mbps;
}

/**
 * The line-rate allowance stop: the probe cannot know the line rate in advance, so it bounds itself by its own
 * estimate, taken at the low end of its ≈ 95 % interval (mbps × (1 − 2·relSe)) so that a noisy figure does not widen
 * the allowance. Only estimates whose window is minMeasureMs long count (stopping on a shorter one would cost
 * accuracy); an estimate too uncertain to bound anything leaves the previous one in force (the time cap is the last
 * resort). The probe stops once what it used, plus what is still to come after a stop, reaches lineRateAllowance of
 * that rate.
 */
export class AllowanceRule {
  readonly minMeasureMs: number;
  #rateMbps = 0;

  constructor(minMeasureMs: number) {
    this.minMeasureMs = minMeasureMs;
  }

  /** The rate judged by (Mbit/s; 0: none yet). */
  get rateMbps(): number {
    return this.#rateMbps;
  }

  /**
   * Takes the latest estimate: `measuredMs` is the window the final figure would cover after a stop now; `recentMbps`
   * the rate of its last part. While that runs RAMP_FACTOR above the whole window's, the transfer is still filling
   * the path (slow start on a long round trip) and the link carries at least the recent rate: the rule judges by it.
   * Judged by the window's rate, a 40 Mbit/s link at 300 ms RTT stopped after 1.0 s and 0.17 MB reading 0.80 (lab).
   */
  observe(mbps: number, relSe: number, measuredMs: number, recentMbps = 0): void {
    const low = mbps * (1 - 2 * relSe);
    if (measuredMs < this.minMeasureMs) return;
    const rate = isRamping(mbps, recentMbps) ? Math.max(low, recentMbps) : low;
    if (rate > 0) this.#rateMbps = rate;
  }

  /** True once `usedBytes` plus `pendingBytes` (downloads in flight, the rest of uploads that finish) reach the allowance. */
  reached(usedBytes: number, pendingBytes: number): boolean {
    return this.#rateMbps > 0 && usedBytes + pendingBytes >= lineRateAllowance(this.#rateMbps);
  }
}
