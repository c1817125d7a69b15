/** Light probe transports: TCP connect RTT and linkward UDP echo, each bound to an uplink's source address. */
import { connect } from 'node:net';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { Clock } from '../agent/base/clock.ts';
import { encodeEcho, parseEchoReply, UDP_WIRE_OVERHEAD_BYTES } from './echo-protocol.ts';
import type { ProbeEndpoint } from './targets.ts';

/** Wire bytes of a TCP connect probe: SYN + SYN/ACK (74 B each with options) + ACK (66 B) + our RST (54 B). */
export const TCP_CONNECT_WIRE_BYTES = 74 + 74 + 66 + 54;
/**
 * Linux's initial SYN retransmission timeout (TCP_TIMEOUT_INIT, RFC 6298): a connect that took this long had its SYN
 * (or the SYN/ACK) lost and retransmitted. Counting it as a 1 s RTT made 10 % loss read as 0 % loss and ~1 s RTT;
 * it is a loss. TCP-connect targets therefore cannot report RTTs of 1 s or more: use UDP echo (linkward://) for those.
 */
export const TCP_SYN_RTO_MS = 1_000;

/**
 * Result of one probe attempt. `rttMs` is set only for an answer that came in time and needed no retransmission;
 * `answered` is true for every answer (a late one, a refusal): whether a late answer is a loss depends on whether the
 * agent itself was starved while it waited, which the caller knows (light-round.ts).
 */
export interface Attempt {
  rttMs: number | null;
  answered: boolean;
  /** Answered, but only after the timeout (`late`) or after a SYN retransmission (`syn_retransmit`). */
  slow?: 'late' | 'syn_retransmit';
  /** The far host answered with a TCP reset (connection refused): the path works, the target has no listener. */
  refused?: boolean;
  /** Estimated bytes put on the wire (both directions). */
  bytes: number;
  error?: string;
}

/** What a light probe needs: time, binding and limits. */
export interface ProbeIo {
  clock: Clock;
  /** Local address to bind (uplink selection) for IPv4 targets and host names; undefined = kernel's choice. */
  sourceAddress?: string;
  /** Local address to bind for IPv6 targets (a dual-stack uplink's global IPv6 address). */
  sourceAddress6?: string;
  timeoutMs: number;
  token?: string;
}

/** The local address a probe to `host` binds: the uplink's address of the host's family (an IPv6 literal: IPv6). */
export function bindFor(io: Pick<ProbeIo, 'sourceAddress' | 'sourceAddress6'>, host: string): string | undefined {
  return isIP(host) === 6 ? io.sourceAddress6 : io.sourceAddress;
}

/**
 * Runs `fn` once the loop has read what is already waiting on the sockets: a timer fires in libuv's timers phase,
 * before the poll phase reads sockets, so after a stall a reply sitting in the kernel would be missed and called lost.
 * setImmediate runs after the poll phase of the same iteration.
 */
function afterPendingIo(fn: () => void): void {
  setImmediate(fn);
}

/** One TCP connect; RTT = time to SYN/ACK. A RST (ECONNREFUSED) also proves the path: answered, marked refused. */
export function tcpConnect(ep: ProbeEndpoint, io: ProbeIo): Promise<Attempt> {
  return new Promise((resolve) => {
    const t0 = io.clock.monoMs();
    let done = false;
    const bind = bindFor(io, ep.host);
    const sock = connect({ host: ep.host, port: ep.port ?? 0, ...(bind ? { localAddress: bind } : {}) });
    const finish = (a: Attempt): void => {
      if (done) return;
      done = true;
      cancel();
      if (!sock.destroyed) sock.resetAndDestroy();
      resolve(a);
    };
    const answered = (bytes: number, refused: boolean): Attempt => {
      const rtt = io.clock.monoMs() - t0;
      const base = { answered: true, bytes, ...(refused ? { refused: true } : {}) };
      if (rtt > io.timeoutMs) return { ...base, rttMs: null, slow: 'late', error: 'late' };
      if (rtt >= TCP_SYN_RTO_MS) return { ...base, rttMs: null, slow: 'syn_retransmit', error: 'syn_retransmit' };
      return { ...base, rttMs: rtt };
    };
    const cancel = io.clock.setTimer(io.timeoutMs, () => afterPendingIo(() => finish({ rttMs: null, answered: false, bytes: 74 * 2, error: 'timeout' })));
    sock.once('connect', () => finish(answered(TCP_CONNECT_WIRE_BYTES, false)));
    sock.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNREFUSED') finish(answered(74 + 54, true));
      else finish({ rttMs: null, answered: false, bytes: 74, error: e.code ?? e.message });
    });
  });
}

/** Sends `count` echo requests `spacingMs` apart to a linkward probe server; one Attempt per request. */
export function udpEcho(ep: ProbeEndpoint, io: ProbeIo, count: number, spacingMs: number): Promise<Attempt[]> {
  return new Promise((resolve) => {
    const bind = bindFor(io, ep.host);
    const family = isIP(ep.host) === 6 || (bind !== undefined && isIP(bind) === 6) ? 'udp6' : 'udp4';
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
        const bytes = perRequest + 16 + UDP_WIRE_OVERHEAD_BYTES;
        if (rtt === undefined) out.push({ rttMs: null, answered: false, bytes: sentAt.has(seq) ? perRequest : 0, error: error ?? 'timeout' });
        else if (rtt > io.timeoutMs) out.push({ rttMs: null, answered: true, slow: 'late', bytes, error: 'late' });
        else out.push({ rttMs: rtt, answered: true, bytes });
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
    sock.bind({ address: bind, port: 0 }, () => {
      for (let seq = 0; seq < count; seq++) cancels.push(io.clock.setTimer(seq * spacingMs, () => !finished && send(seq)));
      cancels.push(io.clock.setTimer((count - 1) * spacingMs + io.timeoutMs, () => afterPendingIo(() => finish())));
    });
  });
}
