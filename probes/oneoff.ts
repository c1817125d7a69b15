/** One-off latency for the CLI: a few TCP connects (and UDP echoes for a linkward server) to the throughput host; a refusing target is told apart. */
import { connect } from 'node:net';
import { summariseWindow } from './stats.ts';
import { TCP_CONNECT_WIRE_BYTES, bindFor, udpEcho, type ProbeIo } from './light-probes.ts';
import type { Preset } from './presets.ts';
import { hostPort } from './rtt-probers.ts';

/** TCP connects per one-off test: 5 give a median and a jitter figure for < 2 kB. */
export const ONEOFF_TCP_COUNT = 5;
/** UDP echoes per one-off test against a linkward server: 20 resolve loss in 5 % steps. */
export const ONEOFF_UDP_COUNT = 20;
/** Gap between one-off probes. */
export const ONEOFF_SPACING_MS = 50;
/** Wire bytes of a refused connect: our SYN (74 B) and the RST/ACK (54 B). */
const REFUSED_WIRE_BYTES = 74 + 54;

export interface OneOffLatency {
  /** Median RTT of real answers (SYN/ACKs, echo replies); never from RSTs. */
  rttMs?: number;
  jitterMs?: number;
  lossPercent?: number;
  /** Every connect was refused (RST): the path works, but no server listens there; a target problem, not a link one. */
  refused: boolean;
  /** Time to the RSTs (ms) when refused: proves the path, not a measurement of a working server. */
  refusedRttMs?: number;
  host: string;
  port: number;
  bytes: number;
  errors: string[];
}

/** One TCP connect, telling a SYN/ACK (`ok`) from a RST (`refused`) and from silence or other errors. */
export function connectOnce(
  host: string,
  port: number,
  io: ProbeIo,
): Promise<{ outcome: 'ok' | 'refused' | 'failed'; rttMs: number; bytes: number; error?: string }> {
  return new Promise((resolve) => {
    const t0 = io.clock.monoMs();
    let done = false;
    const bind = bindFor(io, host);
    const sock = connect({ host, port, ...(bind ? { localAddress: bind } : {}) });
    const finish = (outcome: 'ok' | 'refused' | 'failed', bytes: number, error?: string): void => {
      if (done) return;
      done = true;
      cancel();
      if (!sock.destroyed) sock.resetAndDestroy();
      resolve({ outcome, rttMs: io.clock.monoMs() - t0, bytes, ...(error ? { error } : {}) });
    };
    const cancel = io.clock.setTimer(io.timeoutMs, () => finish('failed', 74 * 2, 'timeout'));
    sock.once('connect', () => finish('ok', TCP_CONNECT_WIRE_BYTES));
    sock.once('error', (e: NodeJS.ErrnoException) =>
      e.code === 'ECONNREFUSED' ? finish('refused', REFUSED_WIRE_BYTES) : finish('failed', 74, e.code ?? e.message),
    );
  });
}

/** Measures RTT/jitter (and loss via UDP echo when the server is a linkward probe-server); says when the target refuses. */
export async function oneOffLatency(url: string, preset: Preset, io: ProbeIo): Promise<OneOffLatency> {
  const { host, port } = hostPort(url);
  const tcp = [];
  for (let i = 0; i < ONEOFF_TCP_COUNT; i++) {
    if (i > 0) await io.clock.sleep(ONEOFF_SPACING_MS);
    tcp.push(await connectOnce(host, port, io));
  }
  const refused = tcp.every((a) => a.outcome === 'refused');
  const udp = preset === 'linkward' && !refused ? await udpEcho({ kind: 'udp', host, port }, io, ONEOFF_UDP_COUNT, ONEOFF_SPACING_MS) : [];
  const tcpWin = summariseWindow(tcp.map((a) => ({ target: 'tcp', rttMs: a.outcome === 'ok' ? a.rttMs : null })));
  const udpWin = summariseWindow(udp.map((a) => ({ target: 'udp', rttMs: a.rttMs })));
  const win = udpWin.rttMs !== undefined ? udpWin : tcpWin;
  const errors = [...new Set(tcp.flatMap((a) => (a.outcome === 'failed' && a.error ? [`tcp ${host}:${port}: ${a.error}`] : [])))];
  const out: OneOffLatency = { refused, host, port, bytes: [...tcp, ...udp].reduce((s, a) => s + a.bytes, 0), errors };
  if (refused) {
    out.refusedRttMs = summariseWindow(tcp.map((a) => ({ target: 'tcp', rttMs: a.rttMs }))).rttMs ?? 0;
    return out;
  }
  if (win.rttMs !== undefined) out.rttMs = win.rttMs;
  if (win.jitterMs !== undefined) out.jitterMs = win.jitterMs;
  const loss = udp.length > 0 ? udpWin.lossPercent : tcpWin.lossPercent;
  if (loss !== undefined) out.lossPercent = loss;
  return out;
}
