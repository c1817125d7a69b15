/** Hands free pages inside glibc's malloc heap back to the kernel on a timer (malloc_trim through the native addon). */
import { Counter, type Registry } from 'prom-client';
import type { Clock } from '../base/clock.ts';

/**
 * Period between trims. glibc returns memory on its own only from the top of the heap (MALLOC_TRIM_THRESHOLD_), so
 * the optimizing compilers' zones (~12 MiB live while the ingest path is first compiled) and request buffers stay
 * resident as free holes below later allocations: 9–12 MiB of the heap under ingest load. One call costs about
 * 0.1 ms idle and 0.4–0.6 ms under load (docs/BENCHMARKS.md), so once a second is below 0.1 % of a core, and a
 * second is short against a compile burst's lifetime.
 */
export const TRIM_PERIOD_MS = 1_000;

/** Environment switch: LINKWARD_MALLOC_TRIM=off leaves the heap to glibc (A/B benchmarks, a suspected allocator issue). */
export const TRIM_ENV = 'LINKWARD_MALLOC_TRIM';

export interface MallocTrimStats {
  /** Trims done. */
  calls: number;
  /** Trims after which glibc reported memory returned to the kernel. */
  released: number;
  /** Time spent inside malloc_trim, in milliseconds (the main thread is busy for it). */
  busyMs: number;
}

export interface MallocTrimmer {
  stop(): void;
  stats(): MallocTrimStats;
}

/**
 * Calls `trim` every `periodMs` until stopped. `trim` returns 1 when memory was released, 0 when none was, and a
 * negative number when the C library has no malloc_trim (musl): then the timer stops for good.
 */
export function startMallocTrim(clock: Clock, trim: () => number, periodMs = TRIM_PERIOD_MS): MallocTrimmer {
  const stats: MallocTrimStats = { calls: 0, released: 0, busyMs: 0 };
  let cancel: (() => void) | null = null;
  const tick = (): void => {
    const t0 = clock.monoMs();
    const rc = trim();
    stats.busyMs += clock.monoMs() - t0;
    if (rc < 0) {
      cancel = null;
      return;
    }
    stats.calls++;
    if (rc > 0) stats.released++;
    cancel = clock.setTimer(periodMs, tick);
  };
  cancel = clock.setTimer(periodMs, tick);
  return {
    stop() {
      cancel?.();
      cancel = null;
    },
    stats: () => ({ ...stats }),
  };
}

/** Whether the environment leaves trimming on (anything but LINKWARD_MALLOC_TRIM=off). */
export function mallocTrimEnabled(env: NodeJS.ProcessEnv): boolean {
  return env[TRIM_ENV] !== 'off';
}

/** linkward_malloc_trim_total and linkward_malloc_trim_seconds_total, read from the trimmer at scrape time. */
export function registerMallocTrimMetrics(registry: Registry, trimmer: MallocTrimmer): void {
  new Counter({
    name: 'linkward_malloc_trim_total',
    help: 'Calls of malloc_trim that returned free heap pages to the kernel (result="released") or found none (result="none").',
    labelNames: ['result'] as const,
    registers: [registry],
    collect() {
      const s = trimmer.stats();
      this.reset();
      this.inc({ result: 'released' }, s.released);
      this.inc({ result: 'none' }, s.calls - s.released);
    },
  });
  new Counter({
    name: 'linkward_malloc_trim_seconds_total',
    help: 'Time the main thread spent in malloc_trim.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(trimmer.stats().busyMs / 1000);
    },
  });
}
