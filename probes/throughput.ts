/** Throughput probe over HTTP (undici): parallel streams, growing transfer sizes, warm-up excluded, stops when stable or capped. */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Pool } from 'undici';
import type { Clock } from '../agent/clock.ts';
import { deliveredSeries, estimate, nextTransferSize, type ByteSample, type Estimate } from './estimator.ts';
import { PRESETS, presetUrl, type Preset } from './presets.ts';

/** First download per stream: 64 KiB fits in the initial window of a slow link without wasting bytes. */
export const INITIAL_TRANSFER_BYTES = 64 * 1024;
/** First upload per stream: uploads are timed by completions, so start small (16 KiB ≈ 260 ms at 0.5 Mbit/s per stream). */
export const INITIAL_UPLOAD_BYTES = 16 * 1024;
/** A download lasting this long is long enough to be trusted; sizes stop growing. */
export const TRUST_TRANSFER_MS = 500;
/** Uploads are timed by their completions, so they are kept short: each completion is a precise delivery point. */
export const TRUST_UPLOAD_MS = 150;
/** ...but at least this many round trips long (RTT hint, else the shortest upload seen), so request gaps do not idle a stream. */
export const TRUST_UPLOAD_RTTS = 4;
/** Smallest request worth its HTTP overhead; a smaller remainder of the byte cap is left unused. */
export const MIN_REQUEST_BYTES = 4 * 1024;
/** How often (of measured time) the stability rule is evaluated. */
export const CHECK_EVERY_MS = 100;
/** HTTP request + response header bytes per transfer (measured on the linkward server: ≈ 120 + 180). */
export const HTTP_OVERHEAD_BYTES = 300;
/** TCP/IP/Ethernet headers and ACKs on top of payload: 66 B per 1448 B segment plus ACKs ≈ 5 %. */
export const WIRE_OVERHEAD_FACTOR = 1.05;
/** Upload body chunk: 16 KiB keeps the byte series fine-grained (≈ 13 ms at 10 Mbit/s); random, allocated once. */
const UP_CHUNK = randomBytes(16 * 1024);

export type Direction = 'down' | 'up';
export type StopReason = 'stable' | 'bytes' | 'time' | 'error';

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
  onProgress?: (p: { direction: Direction; mbps: number; bytes: number; elapsedMs: number }) => void;
  /** Known round-trip time (light probes, one-off latency); sizes uploads so request gaps do not idle streams. */
  rttHintMs?: number;
  /** Return the raw cumulative byte series (for recordings and benchmarks). */
  keepSeries?: boolean;
}

export interface ThroughputResult {
  direction: Direction;
  /** Estimated goodput (Mbit/s); undefined when nothing was measured. */
  mbps?: number;
  /** Payload bytes moved. */
  payloadBytes: number;
  /** Estimated wire bytes (payload + HTTP + TCP/IP overhead): what the budget counts. */
  bytesUsed: number;
  durationMs: number;
  warmupMs: number;
  measuredMs: number;
  stable: boolean;
  stopReason: StopReason;
  requests: number;
  errors: string[];
  series?: ByteSample[];
}

/** Parses the linkward server's upload answer into a delivered series (server clock); falls back to nothing usable. */
export function serverTicks(text: string, size: number): ByteSample[] {
  try {
    const ticks = (JSON.parse(text) as { ticks?: unknown }).ticks;
    if (Array.isArray(ticks) && ticks.every((p) => Array.isArray(p) && typeof p[0] === 'number' && typeof p[1] === 'number')) {
      return (ticks as [number, number][]).map(([tMs, bytes]) => ({ tMs, bytes: Math.min(bytes, size) }));
    }
  } catch {
    /* not JSON: treated as no ticks below */
  }
  throw new Error('upload answer has no arrival ticks: is the target a linkward probe-server? (use --preset cloudflare/librespeed otherwise)');
}

/** Runs one direction. Never throws for network errors: they end up in `errors` and `stopReason`. */
export async function runThroughput(o: ThroughputOptions): Promise<ThroughputResult> {
  const base = new URL(o.url);
  const preset = PRESETS[o.preset];
  const pool = new Pool(base.origin, { connections: o.streams, ...(o.sourceAddress ? { localAddress: o.sourceAddress } : {}), headersTimeout: o.maxDurationMs, bodyTimeout: o.maxDurationMs });
  const ac = new AbortController();
  const t0 = o.clock.monoMs();
  const samples: ByteSample[] = [{ tMs: 0, bytes: 0 }];
  const errors: string[] = [];
  let total = 0;
  let requests = 0;
  let lastCheck = 0;
  let stopReason: StopReason | null = null;
  let last = { mbps: 0, warmupMs: 0, measuredMs: 0, stable: false };
  const headers: Record<string, string> = o.token ? { authorization: `Bearer ${o.token}` } : {};

  const stop = (why: StopReason): void => {
    if (stopReason) return;
    stopReason = why;
    ac.abort(new Error(`stopped: ${why}`));
  };
  /** Upload: per stream, the delivered-bytes series of each completed request (server ticks, or start→completion). */
  const completed: ByteSample[][][] = Array.from({ length: o.streams }, () => []);
  /** Streams that will start no further transfer (their series is complete). */
  const finished: boolean[] = Array.from({ length: o.streams }, () => false);
  // upload: delivered series once every stream completed a request; before that (or if a stream starves) pulled bytes
  const series = (): { s: ByteSample[]; trusted: boolean } => {
    if (o.direction === 'down') return { s: samples, trusted: true };
    const d = deliveredSeries(completed, 20, finished);
    return d.length > 0 ? { s: d, trusted: true } : { s: samples, trusted: false };
  };
  const est = (): Estimate | undefined => {
    const { s: ser, trusted } = series();
    const e = estimate(ser, { binMs: 100, minMeasureMs: o.minMeasureMs, stableTolerance: o.stableTolerance });
    return e && !trusted ? { ...e, stable: false } : e;
  };
  const check = (t: number): void => {
    lastCheck = t;
    const e = est();
    if (e) last = e;
    o.onProgress?.({ direction: o.direction, mbps: last.mbps, bytes: total, elapsedMs: t });
    if (e?.stable) stop('stable');
  };
  const account = (n: number): void => {
    if (stopReason) return;
    total += n;
    const t = o.clock.monoMs() - t0;
    samples.push({ tMs: t, bytes: total });
    if (t - lastCheck >= CHECK_EVERY_MS) check(t);
    if (t >= o.maxDurationMs) stop('time');
  };
  const cancelTimer = o.clock.setTimer(o.maxDurationMs, () => stop('time'));

  const transfer = async (size: number, stream: number): Promise<void> => {
    const nonce = randomBytes(6).toString('hex');
    const path = (u: URL): string => u.pathname + u.search;
    requests++;
    if (o.direction === 'down') {
      const res = await pool.request({ method: 'GET', path: path(presetUrl(o.url, preset.down(size, nonce))), headers, signal: ac.signal });
      if (res.statusCode >= 300) {
        await res.body.dump();
        throw new Error(`HTTP ${res.statusCode} from ${o.url}`);
      }
      let got = 0;
      for await (const chunk of res.body) {
        got += (chunk as Buffer).length;
        account((chunk as Buffer).length);
        if (got >= size) break; // LibreSpeed sends whole MiB: stop at what we asked for
      }
      if (got < size) res.body.destroy();
      return;
    }
    async function* body(): AsyncGenerator<Buffer> {
      let left = size;
      while (left > 0 && !stopReason) {
        const n = Math.min(left, UP_CHUNK.length);
        left -= n;
        yield n === UP_CHUNK.length ? UP_CHUNK : UP_CHUNK.subarray(0, n);
        account(n);
      }
    }
    const startedAt = o.clock.monoMs() - t0;
    const res = await pool.request({ method: 'POST', path: path(presetUrl(o.url, preset.up(nonce))), headers: { ...headers, 'content-type': 'application/octet-stream', 'content-length': String(size) }, body: Readable.from(body()), signal: ac.signal });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`HTTP ${res.statusCode} from ${o.url}`);
    if (stopReason) return;
    const t = o.clock.monoMs() - t0;
    (completed[stream] as ByteSample[][]).push(preset.serverTicks ? serverTicks(text, size) : [{ tMs: startedAt, bytes: 0 }, { tMs: t, bytes: size }]);
    check(t);
  };

  let shortestUploadMs = Number.POSITIVE_INFINITY;
  const trustMs = (): number => (o.direction === 'down' ? TRUST_TRANSFER_MS : Math.max(TRUST_UPLOAD_MS, TRUST_UPLOAD_RTTS * (o.rttHintMs ?? shortestUploadMs)));
  /** The cap is on estimated wire bytes: payload may use what is left after TCP/IP overhead. */
  const payloadCap = Math.floor(o.maxBytes / WIRE_OVERHEAD_FACTOR);
  // the byte cap is enforced by what requests ask for: once every byte is committed, streams finish their last
  // transfer (nothing beyond the cap is ever requested, so nothing has to be aborted and wasted)
  let committed = 0;
  const worker = async (stream: number): Promise<void> => {
    let size = o.direction === 'down' ? INITIAL_TRANSFER_BYTES : INITIAL_UPLOAD_BYTES;
    while (!stopReason) {
      const ask = Math.min(size, payloadCap - committed);
      if (ask < MIN_REQUEST_BYTES) {
        finished[stream] = true;
        return;
      }
      committed += ask;
      const started = o.clock.monoMs();
      try {
        await transfer(ask, stream);
      } catch (e) {
        if (stopReason) return;
        errors.push((e as Error).message);
        stop('error');
        return;
      }
      const took = o.clock.monoMs() - started;
      if (o.direction === 'up') shortestUploadMs = Math.min(shortestUploadMs, took);
      size = nextTransferSize(size, took, trustMs(), o.maxBytes);
    }
  };
  await Promise.all(Array.from({ length: o.streams }, (_, i) => worker(i)));
  // workers only return without a stop once the byte cap is fully committed and delivered
  const reason: StopReason = (stopReason as StopReason | null) ?? 'bytes';
  cancelTimer();
  await pool.destroy().catch(() => undefined);
  const durationMs = o.clock.monoMs() - t0;
  const final = est();
  const measured = total > 0 && final !== undefined;
  return {
    direction: o.direction,
    ...(measured && reason !== 'error' ? { mbps: final.mbps } : {}),
    payloadBytes: total,
    bytesUsed: Math.round(total * WIRE_OVERHEAD_FACTOR + requests * HTTP_OVERHEAD_BYTES),
    durationMs,
    warmupMs: final?.warmupMs ?? 0,
    measuredMs: final?.measuredMs ?? 0,
    stable: final?.stable ?? false,
    stopReason: reason,
    requests,
    errors,
    ...(o.keepSeries ? { series: series().s } : {}),
  };
}
