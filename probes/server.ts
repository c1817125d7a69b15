/** The linkward probe server: HTTP download/upload/RTT endpoints (linkward, LibreSpeed, Cloudflare layouts) and UDP echo on the same port. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { LwError } from '../agent/base/errors.ts';
import { sendError, sendJson } from '../agent/base/http-respond.ts';
import type { Logger } from '../agent/base/log.ts';
import { echoReply } from './echo-protocol.ts';
import { ProbeErrorCode } from './errors.ts';

/** Default per-request byte cap: 64 MiB covers any sane probe and bounds what one request can cost. */
export const DEFAULT_MAX_BYTES_PER_REQUEST = 64 * 1024 * 1024;
/** Default concurrent TCP connections: 64 = 16 clients with 4 streams. */
export const DEFAULT_MAX_CONNECTIONS = 64;
/** Default UDP echo replies per second (whole server), so it cannot be used as a reflector. */
export const DEFAULT_UDP_PPS = 2_000;
/** Chunk written per write(): 64 KiB of random bytes, reused (incompressible, no per-request cost). */
const CHUNK = randomBytes(64 * 1024);
/** LibreSpeed's garbage.php unit: ckSize counts MiB chunks. */
const MIB = 1024 * 1024;
/** Idle keep-alive and request timeouts: long enough for slow uplinks, short enough to shed dead peers. */
const KEEP_ALIVE_MS = 15_000;
const REQUEST_TIMEOUT_MS = 120_000;

export interface ProbeServerOptions {
  host: string;
  port: number;
  token?: string;
  maxBytesPerRequest?: number;
  maxConnections?: number;
  udpPacketsPerSecond?: number;
  log?: Logger;
}

export interface RunningProbeServer {
  host: string;
  port: number;
  /** Counters since start (tests and the CLI summary). */
  stats: { downBytes: number; upBytes: number; echoes: number; rejected: number };
  close(): Promise<void>;
}

/** Loopback addresses may be served without a token; anything else must set one (safety rule). */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function tokenOk(req: IncomingMessage, url: URL, token: string | undefined): boolean {
  if (!token) return true;
  const auth = req.headers.authorization ?? '';
  const given = auth.startsWith('Bearer ') ? auth.slice(7) : (url.searchParams.get('token') ?? '');
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Streams `bytes` bytes honouring backpressure; stops when the client goes away. */
function streamBytes(res: ServerResponse, bytes: number, onBytes: (n: number) => void): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes, 'cache-control': 'no-store', 'content-encoding': 'identity' });
  let left = bytes;
  const pump = (): void => {
    while (left > 0 && !res.destroyed) {
      const n = Math.min(left, CHUNK.length);
      left -= n;
      onBytes(n);
      if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) {
        res.once('drain', pump);
        return;
      }
    }
    if (left === 0) res.end();
  };
  pump();
}

/** Spacing of the arrival ticks an upload answer carries (`?ticks=1`): 20 ms keeps the answer ≈ 400 B per 300 ms upload. */
export const UPLOAD_TICK_MS = 20;
/** At most this many ticks per answer (bounds the answer for very long uploads). */
const MAX_TICKS = 3_000;

/** Drains an upload up to `cap` bytes; answers `{ bytes, ms }` and, with ticks, `[serverMs, cumulativeBytes]` arrival points. */
function sinkUpload(req: IncomingMessage, res: ServerResponse, cap: number, withTicks: boolean, onBytes: (n: number) => void): void {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > cap) {
    sendError(res, 413, 'LW_PROBE_TOO_LARGE', `upload of ${declared} bytes exceeds the per-request cap of ${cap}`);
    req.resume();
    return;
  }
  const t0 = performance.now();
  const round = (t: number): number => Math.round(t * 100) / 100;
  const ticks: [number, number][] = [[round(t0), 0]];
  let lastTick = t0;
  let got = 0;
  req.on('data', (c: Buffer) => {
    got += c.length;
    onBytes(c.length);
    const now = performance.now();
    if (withTicks && now - lastTick >= UPLOAD_TICK_MS && ticks.length < MAX_TICKS) {
      lastTick = now;
      ticks.push([round(now), got]);
    }
    if (got > cap) {
      sendError(res, 413, 'LW_PROBE_TOO_LARGE', `upload exceeds the per-request cap of ${cap} bytes`, {});
      req.destroy();
    }
  });
  req.on('end', () => {
    const end = performance.now();
    if (withTicks) ticks.push([round(end), got]);
    if (!res.headersSent) sendJson(res, 200, { bytes: got, ms: end - t0, ...(withTicks ? { ticks } : {}) });
  });
  req.on('error', () => undefined);
}

/** Starts HTTP + UDP echo on host:port (port 0 = ephemeral; UDP binds the same number). */
export async function startProbeServer(opts: ProbeServerOptions): Promise<RunningProbeServer> {
  if (!isLoopbackHost(opts.host) && !opts.token) {
    throw new LwError(
      ProbeErrorCode.SERVER_INSECURE,
      `probe-server on ${opts.host} is reachable from the network: pass --token (or LINKWARD_PROBE_TOKEN), or listen on 127.0.0.1`,
      { context: { host: opts.host } },
    );
  }
  const cap = opts.maxBytesPerRequest ?? DEFAULT_MAX_BYTES_PER_REQUEST;
  const stats = { downBytes: 0, upBytes: 0, echoes: 0, rejected: 0 };
  const token = opts.token;
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://probe');
    const path = url.pathname.replace(/^\/backend\//, '/');
    if (!tokenOk(req, url, token)) {
      stats.rejected++;
      sendError(res, 401, 'LW_PROBE_UNAUTHORIZED', 'missing or wrong token: send Authorization: Bearer <token>');
      req.resume();
      return;
    }
    if (req.method === 'GET' && (path === '/linkward/down' || path === '/__down' || path === '/garbage.php')) {
      const bytes = path === '/garbage.php' ? Number(url.searchParams.get('ckSize') ?? '4') * MIB : Number(url.searchParams.get('bytes') ?? '0');
      if (!Number.isInteger(bytes) || bytes < 0) return sendError(res, 400, 'LW_PROBE_BAD_REQUEST', 'bytes (or ckSize) must be a non-negative integer');
      if (bytes > cap)
        return sendError(res, 413, 'LW_PROBE_TOO_LARGE', `${bytes} bytes exceeds the per-request cap of ${cap}; ask for less`, { maxBytes: cap });
      return streamBytes(res, bytes, (n) => (stats.downBytes += n));
    }
    if ((req.method === 'POST' || req.method === 'PUT') && (path === '/linkward/up' || path === '/__up' || path === '/empty.php')) {
      return sinkUpload(req, res, cap, url.searchParams.get('ticks') === '1', (n) => (stats.upBytes += n));
    }
    if (req.method === 'GET' && (path === '/linkward/rtt' || path === '/empty.php')) {
      res.writeHead(200, { 'cache-control': 'no-store', 'content-length': 0 });
      return void res.end();
    }
    if (req.method === 'GET' && path === '/linkward/info') {
      return sendJson(res, 200, { server: 'linkward-probe-server', maxBytesPerRequest: cap, udpEchoPort: udpPort });
    }
    req.resume();
    sendError(
      res,
      404,
      'LW_PROBE_NOT_FOUND',
      'unknown path: use /linkward/down?bytes=N, /linkward/up, /linkward/rtt, /__down, /__up, /garbage.php, /empty.php',
    );
  };
  const server: Server = createServer({ keepAliveTimeout: KEEP_ALIVE_MS, requestTimeout: REQUEST_TIMEOUT_MS }, handler);
  server.maxConnections = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) =>
      reject(new LwError(ProbeErrorCode.SERVER_LISTEN_FAILED, `probe-server cannot listen on ${opts.host}:${opts.port}: ${e.message}`, { cause: e })),
    );
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const udpPort = port;
  const udp: Socket = createSocket(opts.host.includes(':') ? 'udp6' : 'udp4');
  const pps = opts.udpPacketsPerSecond ?? DEFAULT_UDP_PPS;
  let windowStart = 0;
  let windowCount = 0;
  udp.on('message', (msg, rinfo) => {
    const now = Math.floor(performance.now() / 1000);
    if (now !== windowStart) {
      windowStart = now;
      windowCount = 0;
    }
    if (++windowCount > pps) return;
    const reply = echoReply(msg, token);
    if (!reply) return;
    stats.echoes++;
    udp.send(reply, rinfo.port, rinfo.address);
  });
  udp.on('error', (e) => opts.log?.warn({ err: e.message }, 'probe-server UDP error'));
  await new Promise<void>((resolve, reject) => {
    udp.once('error', (e) =>
      reject(new LwError(ProbeErrorCode.SERVER_LISTEN_FAILED, `probe-server cannot bind UDP ${opts.host}:${port}: ${e.message}`, { cause: e })),
    );
    udp.bind(port, opts.host, () => resolve());
  });
  return {
    host: opts.host,
    port,
    stats,
    close: async () => {
      udp.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
