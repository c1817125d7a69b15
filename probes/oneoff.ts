/** One-off latency for the CLI: a few TCP connects (and UDP echoes for a linkward server) to the throughput host. */
import { summariseWindow } from './stats.ts';
import { tcpConnect, udpEcho, type Attempt, type ProbeIo } from './light-probes.ts';
import type { Preset } from './presets.ts';

/** TCP connects per one-off test: 5 give a median and a jitter figure for < 2 kB. */
export const ONEOFF_TCP_COUNT = 5;
/** UDP echoes per one-off test against a linkward server: 20 resolve loss in 5 % steps. */
export const ONEOFF_UDP_COUNT = 20;
/** Gap between one-off probes. */
export const ONEOFF_SPACING_MS = 50;

export interface OneOffLatency {
  rttMs?: number;
  jitterMs?: number;
  lossPercent?: number;
  bytes: number;
  errors: string[];
}

/** Measures RTT/jitter (and loss via UDP echo when the server is a linkward probe-server). */
export async function oneOffLatency(url: string, preset: Preset, io: ProbeIo): Promise<OneOffLatency> {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  const attempts: Attempt[] = [];
  for (let i = 0; i < ONEOFF_TCP_COUNT; i++) {
    attempts.push(await tcpConnect({ kind: 'tcp', host, port }, io));
    await io.clock.sleep(ONEOFF_SPACING_MS);
  }
  const udp = preset === 'linkward' ? await udpEcho({ kind: 'udp', host, port }, io, ONEOFF_UDP_COUNT, ONEOFF_SPACING_MS) : [];
  const tcpWin = summariseWindow(attempts.map((a) => ({ target: 'tcp', rttMs: a.rttMs })));
  const udpWin = summariseWindow(udp.map((a) => ({ target: 'udp', rttMs: a.rttMs })));
  const win = udpWin.rttMs !== undefined ? udpWin : tcpWin;
  const all = [...attempts, ...udp];
  const out: OneOffLatency = { bytes: all.reduce((s, a) => s + a.bytes, 0), errors: [...new Set(attempts.flatMap((a) => (a.rttMs === null && a.error ? [`tcp ${host}:${port}: ${a.error}`] : [])))] };
  if (win.rttMs !== undefined) out.rttMs = win.rttMs;
  if (win.jitterMs !== undefined) out.jitterMs = win.jitterMs;
  const loss = udp.length > 0 ? udpWin.lossPercent : tcpWin.lossPercent;
  if (loss !== undefined) out.lossPercent = loss;
  return out;
}
