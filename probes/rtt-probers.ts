/** Round-trip probers beside a throughput probe, on their own socket: UDP echo (linkward server) or HTTP GET on a separate connection. */
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { isIP, type Socket } from 'node:net';
import { Client, buildConnector } from 'undici';
import type { Clock } from '../agent/base/clock.ts';
import { encodeEcho, parseEchoReply, ECHO_HEADER_BYTES, UDP_WIRE_OVERHEAD_BYTES } from './echo-protocol.ts';
import { PRESETS, presetUrl, type Preset } from './presets.ts';
import { wireBytes } from './probe-bytes.ts';

/** One round-trip measurement at a time or several in flight; `null` = lost (no answer within the timeout) or failed. */
export interface RttProber {
  /** Which transport (shown with the figures). */
  readonly kind: 'udp' | 'http';
  /** Whether a ping may be sent while another is unanswered (UDP yes; HTTP/1.1 on one connection no). */
  readonly overlapping: boolean;
  /** Worst-case wire bytes of one more ping (the budget reserves these). */
  readonly pingBytes: number;
  ping(): Promise<number | null>;
  /** Wire bytes used so far (both directions). */
  bytes(): number;
  close(): Promise<void>;
}

export interface ProberIo {
  clock: Clock;
  timeoutMs: number;
  sourceAddress?: string;
  token?: string;
}

/** Host and port of a base URL (default ports by scheme). */
export function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)) };
}

/** UDP echo to a linkward probe server (it answers on its HTTP port number): one socket, pings may overlap. */
export function udpProber(url: string, io: ProberIo): RttProber {
  const { host, port } = hostPort(url);
  const sock = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
  const nonce = randomBytes(8);
  const waiting = new Map<number, { at: number; done: (rtt: number | null) => void }>();
  let seq = 0;
  let used = 0;
  let closed = false;
  const request = encodeEcho(0, nonce, io.token).length + UDP_WIRE_OVERHEAD_BYTES;
  const reply = ECHO_HEADER_BYTES + UDP_WIRE_OVERHEAD_BYTES;
  const bound = new Promise<void>((resolve) => {
    sock.once('error', () => resolve());
    // connected: an ICMP port-unreachable (nothing listening) fails the pings at once instead of timing out
    sock.bind({ address: io.sourceAddress, port: 0 }, () => sock.connect(port, host, () => resolve()));
  });
  sock.on('message', (msg) => {
    const n = parseEchoReply(msg, nonce);
    const w = n === null ? undefined : waiting.get(n);
    if (n === null || !w) return;
    used += reply;
    w.done(io.clock.monoMs() - w.at);
  });
  // an ICMP error (port unreachable) fails every ping in flight
  sock.on('error', () => {
    for (const w of [...waiting.values()]) w.done(null);
  });
  return {
    kind: 'udp',
    overlapping: true,
    pingBytes: request + reply,
    async ping() {
      await bound;
      if (closed) return null;
      const n = seq++;
      return new Promise<number | null>((resolve) => {
        const cancel = io.clock.setTimer(io.timeoutMs, () => done(null));
        const done = (rtt: number | null): void => {
          if (!waiting.delete(n)) return;
          cancel();
          resolve(rtt !== null && rtt <= io.timeoutMs ? rtt : null);
        };
        waiting.set(n, { at: io.clock.monoMs(), done });
        used += request;
        sock.send(encodeEcho(n, nonce, io.token), (err) => err && done(null));
      });
    },
    bytes: () => used,
    async close() {
      closed = true;
      for (const w of [...waiting.values()]) w.done(null);
      try {
        sock.close();
      } catch {
        /* never bound */
      }
    },
  };
}

/** HTTP request + response of an RTT GET with headers (≈ 250 B up with a token, ≈ 150 B down), as wire bytes. */
const HTTP_PING_WIRE_BYTES = 600;

/** HTTP GETs of the preset's RTT path on one keep-alive connection of its own (first ping also opens it). */
export function httpProber(url: string, preset: Preset, io: ProberIo): RttProber {
  const sockets: Socket[] = [];
  const connector = buildConnector({});
  const base = new URL(url);
  const client = new Client(base.origin, {
    pipelining: 1,
    headersTimeout: io.timeoutMs,
    bodyTimeout: io.timeoutMs,
    ...(io.sourceAddress ? { localAddress: io.sourceAddress } : {}),
    connect: (opts, cb) =>
      connector(opts, (...args) => {
        if (args[1]) sockets.push(args[1]);
        cb(...args);
      }),
  });
  const headers: Record<string, string> = io.token ? { authorization: `Bearer ${io.token}` } : {};
  return {
    kind: 'http',
    overlapping: false,
    pingBytes: HTTP_PING_WIRE_BYTES,
    async ping() {
      const u = presetUrl(url, PRESETS[preset].rtt(randomBytes(6).toString('hex')));
      const t0 = io.clock.monoMs();
      const ac = new AbortController();
      const cancel = io.clock.setTimer(io.timeoutMs, () => ac.abort());
      try {
        const res = await client.request({ method: 'GET', path: u.pathname + u.search, headers, signal: ac.signal });
        await res.body.dump();
        const rtt = io.clock.monoMs() - t0;
        return res.statusCode < 400 && rtt <= io.timeoutMs ? rtt : null;
      } catch {
        return null;
      } finally {
        cancel();
      }
    },
    bytes: () =>
      wireBytes(
        sockets.reduce((s, k) => s + k.bytesRead + (k.bytesWritten ?? 0), 0),
        sockets.length,
      ),
    async close() {
      await client.destroy().catch(() => undefined);
    },
  };
}

/** The prober a preset supports: UDP echo for the linkward server, an HTTP GET on a separate connection otherwise. */
export function proberFor(url: string, preset: Preset, io: ProberIo): RttProber {
  return preset === 'linkward' ? udpProber(url, io) : httpProber(url, preset, io);
}
