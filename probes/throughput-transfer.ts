/** One HTTP transfer of a throughput probe stream: a download read chunk by chunk, or an upload whose body is fed as the socket pulls. */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Pool } from 'undici';
import type { Clock } from '../agent/base/clock.ts';
import { LwError } from '../agent/base/errors.ts';
import { ProbeErrorCode } from './errors.ts';
import type { ByteSample } from './estimator.ts';
import { presetUrl, type PresetPaths } from './presets.ts';
import type { StreamActivity } from './stalls.ts';
import type { ProbeMeter } from './throughput-meter.ts';
import { serverTicks } from './throughput-result.ts';

/** Upload body chunk: 16 KiB keeps the byte series fine-grained (≈ 13 ms at 10 Mbit/s); random, allocated once. */
const UP_CHUNK = randomBytes(16 * 1024);

/** What a transfer shares with the probe run it belongs to; the per-stream arrays are indexed by stream. */
export interface TransferContext {
  pool: Pool;
  /** The probe's base URL: preset paths resolve against it, HTTP errors name it. */
  url: string;
  preset: PresetPaths;
  headers: Record<string, string>;
  /** Aborted when the probe stops: transfers in progress end, and nothing more is recorded. */
  signal: AbortSignal;
  clock: Clock;
  /** Probe start (clock.monoMs()): activity and upload series are in ms since then. */
  t0: number;
  meter: ProbeMeter;
  /** Download: when data arrived and when a request was outstanding (stall detection). */
  activity: StreamActivity[];
  /** Upload: the delivered-bytes series of each completed request (server ticks, or start→completion). */
  completed: ByteSample[][][];
  /** Upload: size of the request in progress, and how much of it is not yet handed to the socket. */
  inProgress: number[];
  unpulled: number[];
  /** Counts payload bytes: read (download) or handed to the socket (upload). */
  account: (bytes: number) => void;
  /** Upload: a request completed at `tMs` (its series is recorded); not called once the probe is aborted. */
  uploaded: (stream: number, tMs: number) => void;
}

/** LW_PROBE_HTTP_STATUS for a non-2xx answer (the message keeps the `HTTP <status>` form the failure metric reads). */
function httpStatusError(status: number, url: string): LwError {
  return new LwError(ProbeErrorCode.HTTP_STATUS, `HTTP ${status} from ${url}`, { context: { status, url } });
}

/** Path+query of a preset path resolved against the base URL (the pool is bound to its origin). */
function requestPath(url: string, relative: string): string {
  const u = presetUrl(url, relative);
  return u.pathname + u.search;
}

/** Downloads `size` bytes on `stream` (`queued`: a request following another on the connection). Throws on HTTP and network errors. */
export async function download(c: TransferContext, size: number, stream: number, queued: boolean): Promise<void> {
  const nonce = randomBytes(6).toString('hex');
  const asked = c.clock.monoMs();
  const act = c.activity[stream] as StreamActivity;
  const busy: [number, number] = [asked - c.t0, Number.POSITIVE_INFINITY];
  act.busy.push(busy);
  c.meter.asked(stream, c.preset.served?.(size) ?? size);
  const res = await c.pool.request({ method: 'GET', path: requestPath(c.url, c.preset.down(size, nonce)), headers: c.headers, signal: c.signal });
  c.meter.firstByte(c.clock.monoMs() - asked, queued);
  if (res.statusCode >= 300) {
    await res.body.dump();
    throw httpStatusError(res.statusCode, c.url);
  }
  let got = 0;
  try {
    for await (const chunk of res.body) {
      got += (chunk as Buffer).length;
      c.meter.received(stream, (chunk as Buffer).length);
      if (!c.signal.aborted) act.progress.push(c.clock.monoMs() - c.t0);
      c.account((chunk as Buffer).length);
      if (got >= size) break; // a server sending more than asked: stop at what we asked for
    }
  } finally {
    busy[1] = c.clock.monoMs() - c.t0;
  }
  if (got < size) res.body.destroy();
}

/** Uploads `size` bytes on `stream`, then records the delivered series and reports the completion. Throws on HTTP and network errors. */
export async function upload(c: TransferContext, size: number, stream: number): Promise<void> {
  const nonce = randomBytes(6).toString('hex');
  const { unpulled } = c;
  async function* body(): AsyncGenerator<Buffer> {
    while ((unpulled[stream] as number) > 0 && !c.signal.aborted) {
      const n = Math.min(unpulled[stream] as number, UP_CHUNK.length);
      unpulled[stream] = (unpulled[stream] as number) - n;
      yield n === UP_CHUNK.length ? UP_CHUNK : UP_CHUNK.subarray(0, n);
      c.account(n);
    }
  }
  const startedAt = c.clock.monoMs() - c.t0;
  c.inProgress[stream] = size;
  unpulled[stream] = size;
  const res = await c.pool.request({
    method: 'POST',
    path: requestPath(c.url, c.preset.up(nonce)),
    headers: { ...c.headers, 'content-type': 'application/octet-stream', 'content-length': String(size) },
    body: Readable.from(body()),
    signal: c.signal,
  });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw httpStatusError(res.statusCode, c.url);
  if (c.signal.aborted) return;
  const t = c.clock.monoMs() - c.t0;
  (c.completed[stream] as ByteSample[][]).push(
    c.preset.serverTicks
      ? serverTicks(text, size)
      : [
          { tMs: startedAt, bytes: 0 },
          { tMs: t, bytes: size },
        ],
  );
  c.inProgress[stream] = 0;
  c.uploaded(stream, t);
}
