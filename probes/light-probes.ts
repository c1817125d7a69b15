/** Light probe transports: TCP connect RTT and linkward UDP echo, each bound to an uplink's source address. */
import { connect } from 'node:net';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { Clock } from '../agent/clock.ts';
import { encodeEcho, parseEchoReply, UDP_WIRE_OVERHEAD_BYTES } from './echo-protocol.ts';
import type { ProbeEndpoint } from './targets.ts';

/** Wire bytes of a TCP connect probe: SYN + SYN/ACK (74 B each with options) + ACK (66 B) + our RST (54 B). */
export const TCP_CONNECT_WIRE_BYTES = 74 + 74 + 66 + 54;

/** Result of one probe attempt: RTT when the far end answered, null when lost/unanswered. */
export interface Attempt {
  rttMs: number | null;
  /** Estimated bytes put on the wire (both directions). */
  bytes: number;
  error?: string;
}

/** What a light probe needs: time, binding and limits. */
export interface ProbeIo {
  clock: Clock;
  /** Local address to bind (uplink selection); undefined = kernel's choice. */
  sourceAddress?: string;
  timeoutMs: number;
  token?: string;
}

/** One TCP connect; RTT = time to SYN/ACK. A RST (ECONNREFUSED) also proves the path, so it counts as an answer. */
export function tcpConnect(ep: ProbeEndpoint, io: ProbeIo): Promise<Attempt> {
  return new Promise((resolve) => {
    const t0 = io.clock.monoMs();
    let done = false;
    const sock = connect({ host: ep.host, port: ep.port ?? 0, ...(io.sourceAddress ? { localAddress: io.sourceAddress } : {}), timeout: io.timeoutMs });
    const finish = (a: Attempt): void => {
      if (done) return;
      done = true;
      cancel();
      if (!sock.destroyed) sock.resetAndDestroy();
      resolve(a);
    };
    const cancel = io.clock.setTimer(io.timeoutMs, () => finish({ rttMs: null, bytes: 74 * 2, error: 'timeout' }));
    sock.once('connect', () => finish({ rttMs: io.clock.monoMs() - t0, bytes: TCP_CONNECT_WIRE_BYTES }));
    sock.once('timeout', () => finish({ rttMs: null, bytes: 74 * 2, error: 'timeout' }));
    sock.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNREFUSED') finish({ rttMs: io.clock.monoMs() - t0, bytes: 74 + 54 });
      else finish({ rttMs: null, bytes: 74, error: e.code ?? e.message });
    });
  });
}

/** Sends `count` echo requests `spacingMs` apart to a linkward probe server; one Attempt per request. */
export function udpEcho(ep: ProbeEndpoint, io: ProbeIo, count: number, spacingMs: number): Promise<Attempt[]> {
  return new Promise((resolve) => {
    const family = isIP(ep.host) === 6 || (io.sourceAddress !== undefined && isIP(io.sourceAddress) === 6) ? 'udp6' : 'udp4';
    const sock = createSocket(family);
    const nonce = randomBytes(8);
    const sentAt = new Map<number, number>();
    const rtts = new Map<number, number>();
    const cancels: (() => void)[] = [];
    let requestBytes = 0;
    let finished = false;
    const finish = (error?: string): void => {
      if (finished) return;
      finished = true;
      for (const c of cancels) c();
      try {
        sock.close();
      } catch {
        /* already closed */
      }
      const out: Attempt[] = [];
      const perRequest = requestBytes + UDP_WIRE_OVERHEAD_BYTES;
      for (let seq = 0; seq < count; seq++) {
        const rtt = rtts.get(seq);
        out.push(rtt === undefined ? { rttMs: null, bytes: sentAt.has(seq) ? perRequest : 0, ...(error ? { error } : { error: 'timeout' }) } : { rttMs: rtt, bytes: perRequest + 16 + UDP_WIRE_OVERHEAD_BYTES });
      }
      resolve(out);
    };
    sock.on('message', (msg) => {
      const seq = parseEchoReply(msg, nonce);
      const at = seq === null ? undefined : sentAt.get(seq);
      if (seq !== null && at !== undefined && !rtts.has(seq)) rtts.set(seq, io.clock.monoMs() - at);
      if (rtts.size === count) finish();
    });
    sock.on('error', (e: NodeJS.ErrnoException) => finish(e.code ?? e.message));
    const send = (seq: number): void => {
      const pkt = encodeEcho(seq, nonce, io.token);
      requestBytes = pkt.length;
      sentAt.set(seq, io.clock.monoMs());
      sock.send(pkt, ep.port ?? 0, ep.host, (err) => {
        if (err) finish((err as NodeJS.ErrnoException).code ?? err.message);
      });
    };
    sock.bind({ address: io.sourceAddress, port: 0 }, () => {
      for (let seq = 0; seq < count; seq++) cancels.push(io.clock.setTimer(seq * spacingMs, () => !finished && send(seq)));
      cancels.push(io.clock.setTimer((count - 1) * spacingMs + io.timeoutMs, () => finish()));
    });
  });
}
