/** Options, progress reports and tuning constants of the HTTP throughput probe (probes/throughput.ts). */
import type { Clock } from '../agent/base/clock.ts';
import type { Preset } from './presets.ts';
import type { Direction } from './throughput-result.ts';

/** First download per stream: 64 KiB fits in the initial window of a slow link without wasting bytes. */
export const INITIAL_TRANSFER_BYTES = 64 * 1024;
/** First upload per stream: uploads are timed by completions, so start small (16 KiB ≈ 260 ms at 0.5 Mbit/s per stream). */
export const INITIAL_UPLOAD_BYTES = 16 * 1024;
/** A download lasting this long is long enough to be trusted; sizes stop growing. */
export const TRUST_TRANSFER_MS = 500;
/** Uploads are timed by their completions, so they are kept short: each completion is a precise delivery point. */
export const TRUST_UPLOAD_MS = 150;
/**
 * ...but at least this many round trips long (RTT hint, else the shortest upload seen), so request gaps do not idle a
 * stream; downloads too (each request waits one round trip for its first byte).
 */
export const TRUST_UPLOAD_RTTS = 4;
/**
 * Round trips a test runs before the line-rate allowance may end it, and below which a capped test counts as still
 * filling the path (`ramping`): TCP slow start doubles the window once per round trip, so filling a 40 Mbit/s path
 * at 300 ms RTT from its initial 10 segments takes about 7 of them (the lab's delay line: stopped after 1.0 s, such a
 * link read 0.80 Mbit/s; two such readings agreed it was slow).
 */
export const FILL_RTTS = 10;
/** The time cap stretches to at least this many round trips (a GEO satellite path, ~600 ms: 9 s), so a test can fill it. */
export const TIME_CAP_RTTS = 15;
/**
 * Longest round trip the gate and the stretched cap go by (ms): a GEO satellite path. An idle RTT inflated by someone
 * else's queue (loaded cellular: 1.5 s) would otherwise switch the allowance off for 15 s (a review: 6.7× its bytes).
 */
export const MAX_FILL_RTT_MS = 700;
/** Longest a stretched time cap runs (the config's own maximum). */
export const MAX_TIME_CAP_MS = 60_000;

/** A path's round trip as the tests go by it (ms): at most MAX_FILL_RTT_MS, 0 when unknown. */
export function fillRttMs(rttMs: number | undefined): number {
  return Math.min(MAX_FILL_RTT_MS, rttMs ?? 0) || 0;
}

/** The time cap of a test on a path of `rttMs` (fillRttMs): the configured one, stretched to TIME_CAP_RTTS round trips. */
export function timeCapFor(maxDurationMs: number, rttMs: number): number {
  return Math.min(MAX_TIME_CAP_MS, Math.max(maxDurationMs, TIME_CAP_RTTS * rttMs));
}

/** How often (of measured time) the stability rule is evaluated. */
export const CHECK_EVERY_MS = 100;
/** Per-ping timeout of the loaded-latency pings: an answer later than this is a loss. */
export const LATENCY_TIMEOUT_MS = 2_000;

/** The running figure of a probe in progress (for live displays; not a result). */
export interface ThroughputProgress {
  direction: Direction;
  mbps: number;
  bytes: number;
  elapsedMs: number;
}

export interface ThroughputOptions {
  url: string;
  preset: Preset;
  direction: Direction;
  streams: number;
  maxBytes: number;
  maxDurationMs: number;
  minMeasureMs: number;
  stableTolerance: number;
  sourceAddress?: string;
  token?: string;
  clock: Clock;
  onProgress?: (p: ThroughputProgress) => void;
  /** Known round-trip time (light probes, one-off latency); sizes uploads so request gaps do not idle streams. */
  rttHintMs?: number;
  /**
   * The rate the figure will be held against (Mbit/s: the uplink's degraded enter value): a test whose estimate is
   * below it is not stopped by the line-rate allowance before it has lasted long enough for a low reading to count
   * (AGREE_MIN_RTTS round trips, saturation.ts), within the time cap.
   */
  judgeAtMbps?: number;
  /** Return the raw cumulative byte series (for recordings and benchmarks). */
  keepSeries?: boolean;
  /** Measure idle and loaded RTT on a separate socket (default true); its timeout for one ping (default 2000 ms). */
  loadedLatency?: boolean;
  latencyTimeoutMs?: number;
  /** Ends the probe at once when aborted (the agent is stopping): transfers in progress are aborted, no new ones start. */
  signal?: AbortSignal;
}
