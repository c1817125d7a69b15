/** Process metrics under the standard names (process_*, nodejs_*), lint-clean for `promtool check metrics`. */
import { readdirSync } from 'node:fs';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { LoopDelayMonitor } from './loop-delay.ts';

/** Registers process CPU, memory, file descriptors, heap and event-loop delay (from `loop`) on `registry`. */
export function registerProcessMetrics(registry: Registry, loop: LoopDelayMonitor): void {
  const registers = [registry];
  const startSeconds = Math.round((Date.now() - performance.now()) / 1000);
  let lastCpu = process.cpuUsage();
  const cpu = new Counter({ name: 'process_cpu_seconds_total', help: 'Total user and system CPU time spent in seconds.', registers });
  new Gauge({
    name: 'process_resident_memory_bytes',
    help: 'Resident memory size in bytes.',
    registers,
    collect() {
      const now = process.cpuUsage();
      cpu.inc((now.user - lastCpu.user + now.system - lastCpu.system) / 1e6);
      lastCpu = now;
      this.set(process.memoryUsage.rss());
    },
  });
  new Gauge({ name: 'process_start_time_seconds', help: 'Start time of the process since unix epoch in seconds.', registers }).set(startSeconds);
  new Gauge({
    name: 'process_open_fds',
    help: 'Number of open file descriptors.',
    registers,
    collect() {
      try {
        this.set(readdirSync('/proc/self/fd').length);
      } catch {
        /* not Linux: leave unset */
      }
    },
  });
  new Gauge({
    name: 'nodejs_heap_used_bytes',
    help: 'V8 heap used in bytes.',
    registers,
    collect() {
      this.set(process.memoryUsage().heapUsed);
    },
  });
  new Gauge({
    name: 'nodejs_eventloop_delay_p99_seconds',
    help: '99th percentile event-loop delay over the last complete 60 s window, in seconds.',
    registers,
    collect() {
      this.set(loop.read().p99Ms / 1000);
    },
  });
  new Gauge({
    name: 'nodejs_eventloop_delay_max_seconds',
    help: 'Largest event-loop delay over the last complete 60 s window, in seconds.',
    registers,
    collect() {
      this.set(loop.read().maxMs / 1000);
    },
  });
}
