/** Loads linkward's optional native addon (lw_native.node: sd_notify, TCP_INFO, malloc_trim, suspended time) once, from the source tree or next to the bundle. */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** What the addon exports; each function may be missing from an addon built by an older release. */
export interface NativeAddon {
  notify?: (socketPath: string, message: string) => number;
  tcpInfo?: (fd: number, out: Float64Array) => number;
  mallocTrim?: () => number;
  /** CLOCK_BOOTTIME − CLOCK_MONOTONIC in ms (time suspended since boot, up to a time namespace's offset), NaN when unreadable. */
  suspendedMs?: () => number;
}

/**
 * Where the addon can be, relative to this module: the source tree (agent/native/), the bundle in dist/ of a
 * checkout or a release tree (../agent/native/build/Release/), or beside the bundle.
 */
const CANDIDATES = ['../native/build/Release/lw_native.node', '../agent/native/build/Release/lw_native.node', './lw_native.node'];

let loaded: NativeAddon | null | undefined;

/** The addon, or null when it was not built (every caller has a fallback). Linux only. */
export function nativeAddon(): NativeAddon | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (process.platform !== 'linux') return loaded;
  const require = createRequire(import.meta.url);
  for (const rel of CANDIDATES) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (!existsSync(path)) continue;
    try {
      return (loaded = require(path) as NativeAddon);
    } catch {
      /* a stale or foreign build: try the next candidate */
    }
  }
  return loaded;
}
