/** What one throughput direction reports, and the rule that turns its estimate into an honest figure (pure). */
import { isLwError, LwError } from '../agent/base/errors.ts';
import type { ByteSample, Estimate } from './estimator.ts';
import { ProbeErrorCode } from './errors.ts';

/** Why a transfer failed, as a metric label. */
export type FailureReason = 'refused' | 'http_4xx' | 'http_5xx' | 'timeout' | 'error';

/** Node/undici error codes of a transfer that ran out of time (connect, headers, body) or was cut off. */
const TIMEOUT_CODES: ReadonlySet<string> = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_ABORTED',
  'ABORT_ERR',
]);

/** Codes of `e` and of what it wraps (`cause`, an AggregateError's `errors`: happy-eyeballs connects). */
function codesOf(e: unknown, depth = 0): string[] {
  if (typeof e !== 'object' || e === null || depth > 3) return [];
  const o = e as { code?: unknown; name?: unknown; cause?: unknown; errors?: unknown };
  const own = [o.code, o.name].filter((v): v is string => typeof v === 'string');
  const inner = [o.cause, ...(Array.isArray(o.errors) ? o.errors : [])].flatMap((x) => codesOf(x, depth + 1));
  return [...own, ...inner];
}

/** The failure label of a transfer error, from its code and status (never from its message). */
export function failureReason(e: unknown): FailureReason {
  if (isLwError(e, ProbeErrorCode.HTTP_STATUS)) {
    const status = Number(e.context?.status);
    return status >= 500 && status < 600 ? 'http_5xx' : status >= 400 && status < 500 ? 'http_4xx' : 'error';
  }
  const codes = codesOf(e);
  if (codes.includes('ECONNREFUSED')) return 'refused';
  if (codes.some((c) => TIMEOUT_CODES.has(c)) || codes.includes('AbortError') || codes.includes('TimeoutError')) return 'timeout';
  return 'error';
}
import type { LatencyFigures } from './loaded-latency.ts';
import type { StallReport, StreamActivity } from './stalls.ts';

export type Direction = 'down' | 'up';
/**
 * stable: the estimate is known within tolerance; bytes: the byte cap is reserved (transfers in progress finish);
 * allowance: the line-rate allowance (probe-bytes.ts) is reached (downloads abort, uploads in progress finish: their
 * bytes are in socket buffers and would be sent anyway); time: the time cap; error: a transfer failed.
 */
export type StopReason = 'stable' | 'bytes' | 'allowance' | 'time' | 'error';

export interface ThroughputResult {
  direction: Direction;
  /** Estimated goodput (Mbit/s); undefined when nothing was measured. With `lowerBound`, the link carries at least this. */
  mbps?: number;
  /**
   * True when `mbps` is only "at least": a cap (bytes, allowance, time) ended the direction before the estimate was
   * stable, or a stall held it down. The figure is still the honest estimate of what was measured.
   */
  lowerBound: boolean;
  /** True when a TCP stall (streams without progress) held the aggregate rate down inside the measured window. */
  stalled: boolean;
  /** Rate of the measured window's last part (Mbit/s), when measured. */
  recentMbps?: number;
  /**
   * True when a cap ended the test while its rate was still rising (probe-bytes.ts isRamping: slow start on a long
   * round trip, the path not yet full): the figure is far below the link's rate, and only "at least" it. Two such
   * readings never agree that a link is slow. Absent: false.
   */
  ramping?: boolean;
  /** Idle vs loaded RTT on a separate socket (UDP echo for linkward, HTTP GET otherwise); absent when not measured. */
  latency?: LatencyFigures;
  /** Payload bytes moved. */
  payloadBytes: number;
  /**
   * Bytes known to have arrived: for an upload, the completed requests (the linkward server's arrival ticks; with the
   * librespeed and cloudflare presets, whole requests the server answered 2xx); for a download, the end of the delivered
   * series (read counts, or the kernel's in-order counts, which include response headers). Unlike `payloadBytes` of an
   * upload, never bytes only handed to a socket. Absent: not known (then `floorMbps` bounds nothing).
   */
  deliveredBytes?: number;
  /** Estimated wire bytes (HTTP bytes each way × wire overhead, bytes in flight at the stop, and the RTT pings): what the budget counts; never above maxBytes. */
  bytesUsed: number;
  durationMs: number;
  warmupMs: number;
  measuredMs: number;
  stable: boolean;
  stopReason: StopReason;
  requests: number;
  errors: string[];
  /** Stable label of the first error (`failureReason`), for the failures metric; absent without errors. */
  failure?: FailureReason;
  series?: ByteSample[];
  /** Download: whether the kernel's counters (TCP_INFO: in-sync points, else in-order bytes) timed it rather than bytes read. */
  kernelCounters?: boolean;
  /** Download with kernel counters and keepSeries: the bytes the client read, at the same times. */
  readSeries?: ByteSample[];
}

/**
 * What the link certainly carried: delivered bytes over the whole test, start to stop (Mbit/s). The only figure that
 * is a lower bound whatever happened inside the test; undefined when delivery is not known.
 */
export function floorMbps(r: Pick<ThroughputResult, 'deliveredBytes' | 'durationMs'>): number | undefined {
  if (r.deliveredBytes === undefined || !(r.durationMs > 0)) return undefined;
  return (r.deliveredBytes * 8) / (r.durationMs * 1000);
}

/**
 * A figure that is only "at least" (`lowerBound`), made one: never above what the whole test delivered. The estimate
 * of a window can read far above it: the window ends at the last byte, so a transfer that went silent (a bulk path
 * that drops large packets, a middlebox that kills flows) read "≥ 54 Mbit/s" from 141 KB, and an upload with nothing
 * delivered "≥ 319" from the 64 KiB in its socket buffer (lab, session 22). Such a bound kept or made an uplink healthy.
 */
export function honestBound(mbps: number, r: Pick<ThroughputResult, 'deliveredBytes' | 'durationMs'>): number {
  const floor = floorMbps(r);
  return floor === undefined ? mbps : Math.min(mbps, floor);
}

/** Per-stream progress of an upload, from the linkward server's arrival ticks (one busy interval per request). */
export function uploadActivity(completed: readonly (readonly (readonly ByteSample[])[])[]): StreamActivity[] {
  return completed.map((reqs) => ({
    progress: reqs.flatMap((r) => r.filter((p, i) => i === 0 || p.bytes > (r[i - 1] as ByteSample).bytes).map((p) => p.tMs)),
    busy: reqs.filter((r) => r.length > 1).map((r) => [(r[0] as ByteSample).tMs, (r[r.length - 1] as ByteSample).tMs] as [number, number]),
  }));
}

/**
 * The figure a direction reports: none after an error; else the estimate over the whole measured window, a lower bound
 * when a stall held it down or a cap ended it unstable. Not the rate outside a stall: the data held back by loss
 * recovery arrives in a burst right after it, and that rate read up to 27 % above iperf3 (97.7 Mbit/s, 2 % loss). Not the recent rate of a window still ramping up: recorded 90 Mbit/s runs with 1.4 % loss ended on the
 * byte cap with their last 100 ms bin 13-60 % above the line rate (data held back by loss recovery delivered at
 * once), and that tail read 11-21 % high where the whole window was within 8 %.
 */
export function judgeFigure(
  e: Estimate | undefined,
  stopReason: StopReason,
  stalls: StallReport | undefined,
): { mbps?: number; lowerBound: boolean; stalled: boolean } {
  if (!e || stopReason === 'error') return { lowerBound: false, stalled: false };
  if (stalls?.stalled) return { mbps: e.mbps, lowerBound: true, stalled: true };
  if (e.stable || stopReason === 'stable') return { mbps: e.mbps, lowerBound: false, stalled: false };
  return { mbps: e.mbps, lowerBound: true, stalled: false };
}

/** Parses the linkward server's upload answer into a delivered series (server clock); throws when it has none. */
export function serverTicks(text: string, size: number): ByteSample[] {
  try {
    const ticks = (JSON.parse(text) as { ticks?: unknown }).ticks;
    if (Array.isArray(ticks) && ticks.every((p) => Array.isArray(p) && typeof p[0] === 'number' && typeof p[1] === 'number')) {
      return (ticks as [number, number][]).map(([tMs, bytes]) => ({ tMs, bytes: Math.min(bytes, size) }));
    }
  } catch {
    /* not JSON: treated as no ticks below */
  }
  throw new LwError(
    ProbeErrorCode.BAD_ANSWER,
    'upload answer has no arrival ticks: is the target a linkward probe-server? (use --preset cloudflare/librespeed otherwise)',
  );
}
