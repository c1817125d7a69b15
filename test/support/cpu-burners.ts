/** CPU burners for lab tests and benchmarks: busy-loop child processes on every core at the agent's own nice level. */
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism, getPriority, setPriority } from 'node:os';

/** A burner is a bare busy loop: no I/O, no allocation, so it competes for CPU only (like a compute-bound k3s workload). */
const BURN_SCRIPT = 'for (;;) {}';

export interface Burners {
  /** How many burners were started (one per core by default). */
  count: number;
  /** The nice level they run at. */
  nice: number;
  /** Kills every burner (idempotent); also runs on process exit. */
  stop(): void;
}

export interface BurnerOptions {
  /** Busy loops to start; default: one per core the process may run on. */
  count?: number;
  /** Nice level (-20..19); default: this process's own, which the agent it spawns inherits. */
  nice?: number;
}

/** Starts `count` busy-loop processes at `nice` (the same priority as the agent unless told otherwise). */
export function startBurners(opts: BurnerOptions = {}): Burners {
  const count = opts.count ?? availableParallelism();
  const nice = opts.nice ?? getPriority();
  const children: ChildProcess[] = [];
  for (let i = 0; i < count; i++) {
    const c = spawn(process.execPath, ['-e', BURN_SCRIPT], { stdio: 'ignore' });
    if (c.pid !== undefined) setPriority(c.pid, nice);
    children.push(c);
  }
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    process.off('exit', stop);
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };
  // A test that throws or a benchmark interrupted by SIGINT must not leave busy loops behind.
  process.on('exit', stop);
  return { count: children.length, nice, stop };
}
