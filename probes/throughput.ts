/** Throughput probe over HTTP (undici): parallel streams, growing transfer sizes, warm-up excluded, stops when stable or capped. */
import { Pool } from 'undici';
import { messageOf } from '../agent/base/errors.ts';
import { estimate, nextTransferSize, type ByteSample, type EstimatorOptions } from './estimator.ts';
import { PRESETS } from './presets.ts';
import { AllowanceRule, ByteLedger } from './probe-bytes.ts';
import { ProbeMeter } from './throughput-meter.ts';
import { lastCompletionMs, uploadEstimate, type SeriesEstimate } from './upload-series.ts';
import { failureReason, judgeFigure, uploadActivity, type FailureReason, type StopReason, type ThroughputResult } from './throughput-result.ts';
import { findStalls, type StreamActivity } from './stalls.ts';
import { allowanceHeld, pathFigureOf } from './saturation.ts';
import { reservedLatencySession } from './loaded-latency.ts';
import {
  CHECK_EVERY_MS,
  FILL_RTTS,
  fillRttMs,
  INITIAL_TRANSFER_BYTES,
  INITIAL_UPLOAD_BYTES,
  LATENCY_TIMEOUT_MS,
  MAX_TIME_CAP_MS,
  TRUST_TRANSFER_MS,
  TRUST_UPLOAD_MS,
  TRUST_UPLOAD_RTTS,
  timeCapFor,
  type ThroughputOptions,
} from './throughput-options.ts';
import { download, upload, type TransferContext } from './throughput-transfer.ts';

/**
 * How downloads are timed: `read` = bytes the client read; `sync` = the kernel's in-sync points (probes/kernel-series.ts,
 * needs the native addon; falls back to `read` without it); `bytes` = the kernel's in-order bytes (measured no better
 * than `read`, kept for A/B runs). LINKWARD_TCP_INFO=off|on|bytes overrides the default (benchmarks).
 * Default `read`: `sync` removed the low bias of lossy downloads with the linkward server but read worse with the
 * LibreSpeed preset in its first form (docs/bench/probes.md, 2026-12-03); it is opt-in until measured on every preset.
 */
export type DownloadTiming = 'read' | 'sync' | 'bytes';
export const DEFAULT_DOWNLOAD_TIMING: DownloadTiming = 'read';
const TIMING_ENV: Record<string, DownloadTiming> = { off: 'read', on: 'sync', sync: 'sync', bytes: 'bytes' };
const DOWNLOAD_TIMING: DownloadTiming = TIMING_ENV[process.env.LINKWARD_TCP_INFO ?? ''] ?? DEFAULT_DOWNLOAD_TIMING;

export type { Direction, StopReason, ThroughputResult } from './throughput-result.ts';
export { serverTicks } from './throughput-result.ts';
export * from './throughput-options.ts';

/** Waits for `work`, or less when `signal` aborts first (the work then ends on its own timeout, unawaited). */
async function untilAborted(work: Promise<void> | undefined, signal: AbortSignal | undefined): Promise<void> {
  if (!work || !signal) return work;
  if (signal.aborted) return;
  let onAbort = (): void => {};
  const aborted = new Promise<void>((res) => (onAbort = res));
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** Runs one direction. Never throws for network errors: they end up in `errors` and `stopReason`. */
export async function runThroughput(o: ThroughputOptions): Promise<ThroughputResult> {
  const base = new URL(o.url);
  const preset = PRESETS[o.preset];
  const up = o.direction === 'up';
  const meter = new ProbeMeter(o.streams, o.rttHintMs);
  const pool = new Pool(base.origin, {
    connections: o.streams,
    connect: meter.connect,
    ...(o.sourceAddress ? { localAddress: o.sourceAddress } : {}),
    // the time cap aborts every request; these only bound one that outlives it
    headersTimeout: MAX_TIME_CAP_MS,
    bodyTimeout: MAX_TIME_CAP_MS,
  });
  const ac = new AbortController();
  const aborted = (): boolean => ac.signal.aborted;
  // the byte cap is enforced by what requests ask for: each request reserves what it can cost before it is made, so
  // once the cap is reserved streams finish their last transfer, and nothing in flight at an abort can exceed it.
  // The RTT pings beside the load reserve their share first.
  const ledger = new ByteLedger(o.maxBytes, o.streams);
  const latency = o.loadedLatency === false ? undefined : reservedLatencySession({ ...o, timeoutMs: o.latencyTimeoutMs ?? LATENCY_TIMEOUT_MS }, ledger);
  await untilAborted(latency?.idle(), o.signal);
  // the path's round trip: the idle pings just taken to this server, else the uplink's light probes (at most a GEO path)
  const rttMs = fillRttMs(latency?.idleMs() ?? o.rttHintMs);
  const timeCapMs = timeCapFor(o.maxDurationMs, rttMs);
  const t0 = o.clock.monoMs();
  latency?.start();
  const samples: ByteSample[] = [{ tMs: 0, bytes: 0 }];
  const errors: string[] = [];
  let failure: FailureReason | undefined;
  let total = 0;
  let requests = 0;
  let lastCheck = 0;
  let stopReason: StopReason | null = null;
  let last = { mbps: 0, warmupMs: 0, measuredMs: 0, stable: false };
  const allowance = new AllowanceRule(o.minMeasureMs);
  const headers: Record<string, string> = o.token ? { authorization: `Bearer ${o.token}` } : {};

  /** Ends the probe: no further requests; transfers in progress are aborted unless `drain`. */
  const stop = (why: StopReason, drain = false): void => {
    stopReason ??= why;
    if (!drain && !aborted()) ac.abort(new Error(`stopped: ${why}`));
  };
  /** Upload: per stream, the delivered-bytes series of each completed request (server ticks, or start→completion). */
  const completed: ByteSample[][][] = Array.from({ length: o.streams }, () => []);
  /** Upload: size of each stream's request in progress, and how much of it is not yet handed to the socket. */
  const inProgress: number[] = Array.from({ length: o.streams }, () => 0);
  const unpulled: number[] = Array.from({ length: o.streams }, () => 0);
  /** Download: per stream, when data arrived and when a request was outstanding (stall detection). */
  const activity: StreamActivity[] = Array.from({ length: o.streams }, () => ({ progress: [], busy: [] }));
  /** Streams that will start no further transfer (their series is complete). */
  const finished: boolean[] = Array.from({ length: o.streams }, () => false);
  const estOpts = { binMs: 100, minMeasureMs: o.minMeasureMs, stableTolerance: o.stableTolerance };
  /** Upload stopped with a drain: the series ends at the last completion before the stop (server clock). */
  let untilMs: number | undefined;
  /** Upload: probe time of the last completion. */
  let lastDoneAt = 0;
  const est = (opts: EstimatorOptions = estOpts): SeriesEstimate => {
    if (up) return uploadEstimate({ completed, finished, inProgress, pulled: samples, ...(untilMs !== undefined ? { untilMs } : {}) }, opts);
    // the kernel's in-sync points when every connection has them (no reassembly lag), else its in-order count
    const arrived = DOWNLOAD_TIMING === 'sync' ? meter.arrived() : [];
    const s = arrived.length >= 2 ? arrived : samples;
    const e = estimate(s, opts);
    return { s, e, ...(e ? { bound: e } : {}) };
  };
  const check = (t: number): void => {
    lastCheck = t;
    const c = est();
    if (c.e) last = c.e;
    // the window the figure would cover after a stop now: downloads abort (the figure is the current one), uploads
    // in progress finish (the figure then reaches the last completion, the delivered series only lagging behind it)
    const loadedMs = latency?.loadedMs();
    if (loadedMs !== undefined) meter.delayHint(loadedMs);
    if (c.bound) allowance.observe(c.bound.mbps, c.bound.relSe, up ? lastDoneAt - c.bound.warmupMs : c.bound.measuredMs, c.bound.recentMbps);
    o.onProgress?.({ direction: o.direction, mbps: last.mbps, bytes: total, elapsedMs: t });
    // a series bridged between a few readings (upload grids, in-sync points) can look steady before the path is full
    if (c.e?.stable && t >= FILL_RTTS * rttMs) stop('stable');
  };
  /** Download: bytes the client read, kept beside the kernel's series for recordings (keepSeries). */
  const readSamples: ByteSample[] = [{ tMs: 0, bytes: 0 }];
  const account = (n: number): void => {
    if (aborted()) return;
    total += n;
    const t = o.clock.monoMs() - t0;
    // downloads are timed by what the kernel received when it can tell (no lag behind a CPU-starved reader)
    const kernel = up || DOWNLOAD_TIMING === 'read' ? undefined : meter.kernelSample(t);
    samples.push({ tMs: t, bytes: kernel ?? total });
    if (kernel !== undefined && o.keepSeries) readSamples.push({ tMs: t, bytes: total });
    if (t - lastCheck >= CHECK_EVERY_MS) check(t);
    if (t >= timeCapMs) stop('time');
    const held = allowanceHeld({
      tMs: t,
      rttMs,
      timeCapMs,
      rateMbps: allowance.rateMbps,
      judgeAtMbps: o.judgeAtMbps ?? 0,
      idleMs: latency?.idleMs(),
      loadedMs: latency?.loadedMs(),
    });
    if (
      stopReason ||
      held ||
      // still to come after a stop now: downloads in flight, or the rest of the uploads in progress
      !allowance.reached(meter.usedBytes(), up ? unpulled.reduce((a, b) => a + b, 0) : meter.inFlight(allowance.rateMbps))
    )
      return;
    const doneMs = lastCompletionMs(completed);
    if (up && Number.isFinite(doneMs)) untilMs = doneMs;
    stop('allowance', up);
  };
  const cancelTimer = o.clock.setTimer(timeCapMs, () => stop('time'));
  const onAbort = (): void => stop('time');
  if (o.signal?.aborted) onAbort();
  else o.signal?.addEventListener('abort', onAbort, { once: true });

  const transfers: TransferContext = {
    pool,
    url: o.url,
    preset,
    headers,
    signal: ac.signal,
    clock: o.clock,
    t0,
    meter,
    activity,
    completed,
    inProgress,
    unpulled,
    account,
    uploaded: (stream, t) => {
      if (stopReason)
        finished[stream] = true; // draining: this stream starts nothing more
      else lastDoneAt = t;
      check(t);
    },
  };

  let shortestUploadMs = Number.POSITIVE_INFINITY;
  const trustMs = (): number =>
    up ? Math.max(TRUST_UPLOAD_MS, TRUST_UPLOAD_RTTS * (rttMs || shortestUploadMs)) : Math.max(TRUST_TRANSFER_MS, TRUST_UPLOAD_RTTS * rttMs);
  // A server that sends more than asked (LibreSpeed: whole MiB) is asked for what it sends.
  const served = up ? undefined : preset.served;
  const worker = async (stream: number): Promise<void> => {
    let size = up ? INITIAL_UPLOAD_BYTES : INITIAL_TRANSFER_BYTES;
    for (let queued = false; !stopReason; queued = true) {
      const ask = ledger.reserve(served ? served(size) : size, served);
      if (ask === 0) {
        finished[stream] = true;
        return;
      }
      const started = o.clock.monoMs();
      try {
        requests++;
        await (up ? upload(transfers, ask, stream) : download(transfers, ask, stream, queued));
      } catch (e) {
        if (aborted()) return;
        errors.push(messageOf(e));
        failure ??= failureReason(e);
        stop('error');
        return;
      }
      const took = o.clock.monoMs() - started;
      if (up) shortestUploadMs = Math.min(shortestUploadMs, took);
      size = nextTransferSize(size, took, trustMs(), o.maxBytes);
    }
    if (!aborted()) finished[stream] = true; // stopped with a drain: its last transfer completed
  };
  await Promise.all(Array.from({ length: o.streams }, (_, i) => worker(i)));
  // workers only return without a stop once the byte cap is fully reserved and delivered
  const reason: StopReason = (stopReason as StopReason | null) ?? 'bytes';
  cancelTimer();
  o.signal?.removeEventListener('abort', onAbort);
  await pool.destroy().catch(() => undefined);
  const durationMs = o.clock.monoMs() - t0;
  const lat = await latency?.stop();
  // stalls anywhere in the series (uploads: from the server's arrival ticks, so only with them) keep the warm-up rule
  // from judging the start against a stalled end; then the stalls inside the measured window judge the figure
  const flow = up ? (preset.serverTicks ? uploadActivity(completed) : undefined) : activity;
  const whole = est();
  const s0 = whole.s[0];
  const s1 = whole.s[whole.s.length - 1];
  const anyStall = flow && s0 && s1 ? findStalls(flow, whole.s, s0.tMs, s1.tMs, rttMs).intervals : [];
  const { s: finalSeries, e: final } = anyStall.length > 0 ? est({ ...estOpts, stalls: anyStall }) : whole;
  const measured = total > 0 && final !== undefined;
  const first = finalSeries[0];
  const lastS = finalSeries[finalSeries.length - 1];
  const stalls = measured && flow && first && lastS ? findStalls(flow, finalSeries, first.tMs + final.warmupMs, lastS.tMs, rttMs) : undefined;
  const lastMoveMs = up ? lastDoneAt : (samples[samples.length - 1]?.tMs ?? 0);
  const { figure, ramping } = pathFigureOf(judgeFigure(measured ? final : undefined, reason, stalls), measured ? final : undefined, {
    durationMs,
    rttMs,
    lastMoveMs,
  });
  // what the sockets moved (bytes read after the stop included), what was still in flight when they closed and the
  // RTT pings; the reservations bound it from above
  const used = meter.usedBytes() + meter.inFlight(final?.mbps ?? 0) + (latency?.bytes() ?? 0);
  return {
    direction: o.direction,
    ...(figure.mbps !== undefined ? { mbps: figure.mbps } : {}),
    lowerBound: figure.lowerBound,
    stalled: figure.stalled,
    ...(final && measured ? { recentMbps: final.recentMbps } : {}),
    ramping,
    ...(lat ? { latency: lat } : {}),
    payloadBytes: total,
    // uploads: the completed requests (server ticks, or whole requests answered), never bytes still in a socket
    // buffer; downloads: the end of the series (the kernel's in-order or the read counts)
    deliveredBytes: up ? completed.flat().reduce((n, r) => n + (r[r.length - 1]?.bytes ?? 0), 0) : (s1?.bytes ?? 0),
    bytesUsed: Math.min(ledger.committedBytes, Math.round(used)),
    durationMs,
    warmupMs: final?.warmupMs ?? 0,
    measuredMs: final?.measuredMs ?? 0,
    stable: final?.stable ?? false,
    stopReason: reason,
    requests,
    errors,
    ...(failure ? { failure } : {}),
    ...(o.keepSeries ? { series: [...finalSeries], ...(readSamples.length > 1 ? { readSeries: readSamples } : {}) } : {}),
    ...(!up ? { kernelCounters: DOWNLOAD_TIMING !== 'read' && meter.kernelCounters } : {}),
  };
}
