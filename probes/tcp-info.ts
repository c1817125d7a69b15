/** Kernel per-connection TCP counters (getsockopt TCP_INFO through the native addon), with a fallback when unavailable. */
import type { Socket } from 'node:net';
import { type NativeAddon, nativeAddon } from '../agent/base/native-addon.ts';
import type { KernelReading } from './kernel-series.ts';

/** The counters linkward reads; the addon writes them in this order (agent/native/tcp_info.c, FIELDS). -1: not filled by this kernel. */
export interface TcpInfo {
  /** Payload bytes received in order (tcpi_bytes_received): what the client can read, whether or not it has yet. */
  bytesReceived: number;
  /** Payload bytes the peer acknowledged (tcpi_bytes_acked). */
  bytesAcked: number;
  segsIn: number;
  dataSegsIn: number;
  /** Milliseconds since data last arrived (tcpi_last_data_recv; jiffies resolution). */
  lastDataRecvMs: number;
  /** Smoothed RTT (µs) and the receiver's RTT estimate (µs). */
  rttUs: number;
  rcvRttUs: number;
  totalRetrans: number;
  /** Out-of-order packets received: each run of them is a loss the sender is repairing. */
  rcvOooPack: number;
  sndCwnd: number;
  state: number;
  /** The receiver's estimate of the peer's segment size (bytes). */
  rcvMss: number;
}
const FIELDS = [
  'bytesReceived',
  'bytesAcked',
  'segsIn',
  'dataSegsIn',
  'lastDataRecvMs',
  'rttUs',
  'rcvRttUs',
  'totalRetrans',
  'rcvOooPack',
  'sndCwnd',
  'state',
  'rcvMss',
] as const satisfies readonly (keyof TcpInfo)[];

type TcpInfoFn = NonNullable<NativeAddon['tcpInfo']>;

/** LINKWARD_TCP_INFO=off disables the kernel counters (the probe then uses bytes read by the client): A/B benchmarks. */
const DISABLED = process.env.LINKWARD_TCP_INFO === 'off';

/** The addon's tcpInfo (loaded once by nativeAddon), or null when disabled or not built. */
function addon(): TcpInfoFn | null {
  return DISABLED ? null : (nativeAddon()?.tcpInfo ?? null);
}

const buf = new Float64Array(FIELDS.length);

/** The kernel file descriptor of a connected Node socket (libuv handle; Linux/Unix only), or undefined. */
export function socketFd(socket: Socket): number | undefined {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/** True when TCP_INFO can be read (Linux, addon built with tcpInfo, not disabled). */
export function tcpInfoAvailable(): boolean {
  return addon() !== null;
}

/** The socket's kernel counters now, or undefined (no addon, socket closed, getsockopt failed). */
export function tcpInfoOf(socket: Socket): TcpInfo | undefined {
  const fn = addon();
  const fd = socketFd(socket);
  if (!fn || fd === undefined || fn(fd, buf) !== FIELDS.length) return undefined;
  const out = {} as TcpInfo;
  FIELDS.forEach((k, i) => (out[k] = buf[i] as number));
  return out;
}

/** The counters the download timing uses (probes/kernel-series.ts), or undefined when this kernel does not fill them. */
export function kernelReading(socket: Socket, tMs: number): KernelReading | undefined {
  const ti = tcpInfoOf(socket);
  if (!ti || ti.bytesReceived < 0 || ti.dataSegsIn < 0 || ti.rcvOooPack < 0) return undefined;
  return { tMs, bytesReceived: ti.bytesReceived, dataSegsIn: ti.dataSegsIn, rcvOooPack: ti.rcvOooPack, rcvMss: ti.rcvMss };
}
