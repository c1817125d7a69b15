// Memory sampler for bench:buffer phases: peak RSS of this process and what it was made of at that moment.
import { readFileSync } from 'node:fs';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';

/** Sampling period: short enough to catch a GC-cycle peak (a scavenge cycle under load is ~10–50 ms). */
export const SAMPLE_MS = 50;
const MB = 1024 * 1024;
const mb = (bytes) => Math.round((bytes / MB) * 10) / 10;

/** kB fields of /proc/self/status, in bytes. */
function procStatus() {
  const text = readFileSync('/proc/self/status', 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM'), anon: kb('RssAnon'), file: kb('RssFile'), shmem: kb('RssShmem'), threads: kb('Threads') / 1024 };
}

/**
 * Resident memory by kind of mapping (/proc/self/smaps): `[heap]` (brk: glibc's main malloc arena), glibc's per-thread
 * malloc arenas (a rw part at a 64 MiB-aligned address followed by its PROT_NONE rest up to the next 64 MiB boundary),
 * other anonymous memory (V8 heap pages, code, thread stacks, large mmap'd buffers) and file mappings.
 */
export function smapsSummary() {
  const maps = [];
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m) maps.push({ start: parseInt(m[1], 16), end: parseInt(m[2], 16), perms: m[3], name: m[4].trim(), rss: 0 });
    const r = /^Rss:\s+(\d+) kB/.exec(line);
    if (r && maps.length > 0) maps.at(-1).rss = Number(r[1]) * 1024;
  }
  const ARENA = 64 * MB;
  const out = { brkHeap: 0, mallocArenas: 0, arenaCount: 0, otherAnon: 0, file: 0 };
  maps.forEach((x, i) => {
    const next = maps[i + 1];
    const anon = x.name === '' || x.name.startsWith('[anon');
    const arena =
      anon &&
      x.perms.startsWith('rw') &&
      x.start % ARENA === 0 &&
      next !== undefined &&
      next.start === x.end &&
      next.perms === '---p' &&
      next.end - x.start <= ARENA &&
      next.end % ARENA === 0;
    if (x.name === '[heap]') out.brkHeap += x.rss;
    else if (arena) {
      out.mallocArenas += x.rss;
      out.arenaCount += 1;
    } else if (anon) out.otherAnon += x.rss;
    else out.file += x.rss;
  });
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, k === 'arenaCount' ? v : mb(v)]));
}

/** One snapshot: /proc status and V8's view (MB, one decimal). */
export function snapshot() {
  const s = procStatus();
  const m = process.memoryUsage();
  const spaces = Object.fromEntries(getHeapSpaceStatistics().map((x) => [x.space_name.replace(/_space$/, ''), mb(x.physical_space_size)]));
  return {
    rssMB: mb(s.rss),
    rssAnonMB: mb(s.anon),
    rssFileMB: mb(s.file),
    rssShmemMB: mb(s.shmem),
    threads: s.threads,
    v8HeapTotalMB: mb(m.heapTotal),
    v8HeapUsedMB: mb(m.heapUsed),
    externalMB: mb(m.external),
    arrayBuffersMB: mb(m.arrayBuffers),
    v8SpacesMB: spaces,
  };
}

/** Samples every SAMPLE_MS; `peak()` returns the highest RSS seen since the last `reset()` with its breakdown. */
export function memorySampler({ smaps = false } = {}) {
  let best = null;
  let bestRss = 0;
  const tick = () => {
    const rss = procStatus().rss;
    if (rss <= bestRss) return;
    bestRss = rss;
    best = snapshot();
    if (smaps) best.smapsMB = smapsSummary();
  };
  const timer = setInterval(tick, SAMPLE_MS);
  timer.unref();
  return {
    sample: tick,
    /** Highest RSS since reset (sampled) and VmHWM (the kernel's exact high-water mark since the process started). */
    peak() {
      tick();
      return { peakRssMB: mb(bestRss), vmHwmMB: mb(procStatus().hwm), atPeak: best };
    },
    reset() {
      best = null;
      bestRss = 0;
    },
    stop() {
      clearInterval(timer);
    },
  };
}

/** Counts garbage collections (minor = scavenge, major = mark-compact) and their pause time until `read()`. */
export function gcCounter() {
  const c = { minor: 0, minorMs: 0, major: 0, majorMs: 0 };
  const count = (entries) => {
    for (const e of entries) {
      const major = e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR;
      c[major ? 'major' : 'minor'] += 1;
      c[major ? 'majorMs' : 'minorMs'] += e.duration;
    }
  };
  const obs = new PerformanceObserver((list) => count(list.getEntries()));
  obs.observe({ entryTypes: ['gc'] });
  return {
    read() {
      count(obs.takeRecords());
      obs.disconnect();
      return { gcMinor: c.minor, gcMinorMs: Math.round(c.minorMs), gcMajor: c.major, gcMajorMs: Math.round(c.majorMs) };
    },
  };
}
