/** Endpoint layouts of throughput servers: linkward probe-server, LibreSpeed backends, Cloudflare-style hosts. */
import type { ThroughputConfig } from '../agent/config/probes.ts';

export type Preset = ThroughputConfig['preset'];

/** LibreSpeed's garbage.php sizes in MiB chunks; the client aborts once it has the bytes it wanted. */
const MIB = 1024 * 1024;

export interface PresetPaths {
  /** Path+query (relative to the base URL) that returns at least `bytes` bytes. */
  down(bytes: number, nonce: string): string;
  /** Bytes the server really sends for a download of `bytes` (the byte cap reserves these); default: exactly `bytes`. */
  served?(bytes: number): number;
  /** Path that accepts an upload body. */
  up(nonce: string): string;
  /** True when the upload answer carries the server's arrival ticks (`{ ticks: [[ms, bytes], ...] }`). */
  serverTicks?: boolean;
  /** Cheap request for HTTP round-trip time. */
  rtt(nonce: string): string;
}

export const PRESETS: Readonly<Record<Preset, PresetPaths>> = {
  linkward: {
    down: (bytes) => `linkward/down?bytes=${bytes}`,
    up: () => 'linkward/up?ticks=1',
    rtt: () => 'linkward/rtt',
    serverTicks: true,
  },
  librespeed: {
    down: (bytes, nonce) => `garbage.php?ckSize=${Math.max(1, Math.ceil(bytes / MIB))}&r=${nonce}`,
    served: (bytes) => Math.max(1, Math.ceil(bytes / MIB)) * MIB,
    up: (nonce) => `empty.php?r=${nonce}`,
    rtt: (nonce) => `empty.php?r=${nonce}`,
  },
  cloudflare: {
    down: (bytes) => `__down?bytes=${bytes}`,
    up: () => '__up',
    rtt: () => '__down?bytes=0',
  },
};

/** Resolves a preset path against the base URL (the base is treated as a directory). */
export function presetUrl(base: string, relative: string): URL {
  const b = new URL(base);
  if (!b.pathname.endsWith('/')) b.pathname += '/';
  return new URL(relative, b);
}
