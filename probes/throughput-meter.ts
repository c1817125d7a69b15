/** What a running throughput probe has cost: metered connections (HTTP bytes each way) and download bytes still in flight. */
import type { Socket } from 'node:net';
import { buildConnector } from 'undici';
import { median } from './stats.ts';
import { inFlightBytes, wireBytes } from './probe-bytes.ts';
import { kernelReading, tcpInfoAvailable } from './tcp-info.ts';
import { arrivedSeries, newTrack, observe, type SyncTrack } from './kernel-series.ts';
import type { ByteSample } from './estimator.ts';

/**
 * Meters every connection the probe's pool opens: the sockets' own counters are what the probe really sent and
 * received (request and response headers, upload answers, bytes read after the stop decision), and an upload's bytes
 * count once handed to the socket (the kernel still sends them after an abort). For downloads it also tracks what
 * can still arrive after an abort (ProbeMeter.inFlight).
 */
export class ProbeMeter {
  /** undici `connect` option: the default connector, with every socket it opens recorded. */
  readonly connect: buildConnector.connector;
  readonly #sockets: Socket[] = [];
  /** Bytes asked but not yet received, per download stream. */
  readonly #outstanding: number[];
  /** Time to first byte of each stream's later downloads (their responses queue behind the probe's own data). */
  readonly #queuedTtfbMs: number[] = [];
  readonly #rttHintMs: number;
  #loadedRttMs = 0;
  /** Per socket, the kernel's readings turned into in-sync points (probes/kernel-series.ts). */
  readonly #tracks = new Map<Socket, SyncTrack>();
  /** Whether the kernel's counters can be read here (probes/tcp-info.ts); decided once per probe. */
  readonly kernelCounters = tcpInfoAvailable();

  constructor(streams: number, rttHintMs = 0) {
    this.#outstanding = Array.from({ length: streams }, () => 0);
    this.#rttHintMs = rttHintMs;
    const connector = buildConnector({});
    this.connect = (opts, cb) =>
      connector(opts, (...args) => {
        if (args[1]) this.#sockets.push(args[1]);
        cb(...args);
      });
  }

  /** HTTP bytes moved so far, both directions, all connections (after the sockets closed: what reached the kernel). */
  streamBytes(): number {
    return this.#sockets.reduce((sum, s) => sum + s.bytesRead + (s.bytesWritten ?? 0), 0);
  }

  /**
   * Reads every connection's kernel counters at probe time `tMs` (downloads; no-op without the addon). Returns the
   * in-order payload bytes the kernel has received on them (TCP_INFO tcpi_bytes_received): unlike bytes read, it does
   * not lag when the agent is slow to read (CPU starved). A socket that cannot be read (closed) counts its last
   * reading, or its bytes read when it never gave one.
   */
  kernelSample(tMs: number): number | undefined {
    if (!this.kernelCounters) return undefined;
    let sum = 0;
    for (const s of this.#sockets) {
      let track = this.#tracks.get(s);
      if (!track) this.#tracks.set(s, (track = newTrack()));
      const r = kernelReading(s, tMs);
      if (r) observe(track, r);
      sum += Math.max(track.last?.bytesReceived ?? 0, s.bytesRead);
    }
    return sum;
  }

  /** Unique bytes delivered over the probe's connections, timed by the kernel (kernel-series.ts); empty without it. */
  arrived(): ByteSample[] {
    return this.kernelCounters ? arrivedSeries([...this.#tracks.values()]) : [];
  }

  /** Estimated wire bytes used so far. */
  usedBytes(): number {
    return wireBytes(this.streamBytes(), this.#sockets.length);
  }

  /** A download of `bytes` (as the server sends it) was asked on `stream`. */
  asked(stream: number, bytes: number): void {
    this.#outstanding[stream] = bytes;
  }

  /** Its response headers arrived `ttfbMs` after the request (`queued`: not the stream's first request). */
  firstByte(ttfbMs: number, queued: boolean): void {
    if (queued) this.#queuedTtfbMs.push(ttfbMs);
  }

  /** `bytes` of the stream's download arrived. */
  received(stream: number, bytes: number): void {
    this.#outstanding[stream] = Math.max(0, (this.#outstanding[stream] ?? 0) - bytes);
  }

  /** The median loaded RTT measured beside the load (ms): data queued in the path arrives after an abort too. */
  delayHint(loadedRttMs: number): void {
    this.#loadedRttMs = loadedRttMs;
  }

  /** Download bytes that would still arrive if the probe stopped now, at `mbps` (see inFlightBytes). */
  inFlight(mbps: number): number {
    const delay = Math.max(median(this.#queuedTtfbMs) ?? this.#rttHintMs, this.#loadedRttMs);
    return inFlightBytes(mbps, delay, this.#outstanding);
  }
}
