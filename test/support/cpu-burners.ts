/** CPU burners for lab tests and benchmarks: busy-loop child processes on every core at the agent's own nice level. */
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism, getPriority, setPriority } from 'node:os';

/** A burner is a bare busy loop: no I/O, no allocation, so it competes for CPU only (like a compute-bound k3s workload). */
const BURN_SCRIPT = 'for (;;) {}';

export interface Burners {
  /** How many burners were started (one per core by default). */
  count: number;
  /** True when the burners belong to the test runner's busy pass (scripts/run-tests.mjs), shared by every file in it. */
  shared: boolean;
  /** The nice level they run at. */
  nice: number;
  /** Kills every burner (idempotent); also runs on process exit. A no-op for shared burners. */
  stop(): void;
  /** Process ids of the burners this call started (absent for shared ones). */
  pids?: readonly number[];
}

export interface BurnerOptions {
  /** Busy loops to start; default: one per core the process may run on. */
  count?: number;
  /** Nice level (-20..19); default: this process's own, which the agent it spawns inherits. */
  nice?: number;
}

/**
 * The test runner's busy lab pass starts one set of burners for all its files and names them here as `PID,PID,…@NICE`,
 * so files that run side by side compete with one burner per core, not one per core per file.
 */
export const SHARED_BURNERS_ENV = 'LINKWARD_LAB_SHARED_BURNERS';
/** The runner's lab passes: `quiet` or `busy` declares only that CPU variant of each file; unset declares both. */
export const LAB_CPU_ENV = 'LINKWARD_LAB_CPU';

/** The CPU variants a lab file declares, `false` for quiet and `true` for busy, in that order. */
export function cpuVariants(): readonly boolean[] {
  const v = process.env[LAB_CPU_ENV];
  if (v === undefined || v === '') return [false, true];
  if (v === 'quiet') return [false];
  if (v === 'busy') return [true];
  throw new Error(`${LAB_CPU_ENV}=${v}: expected quiet, busy or unset (both)`);
}

/** The runner's shared burners, checked alive: a busy test must never run without them. */
function sharedBurners(spec: string): Burners {
  const m = /^(\d+(?:,\d+)*)@(-?\d+)$/.exec(spec);
  if (!m) throw new Error(`${SHARED_BURNERS_ENV}=${spec}: expected PID,PID,…@NICE`);
  const pids = m[1]!.split(',').map(Number);
  for (const pid of pids) {
    try {
      process.kill(pid, 0);
    } catch {
      throw new Error(`${SHARED_BURNERS_ENV}: burner ${pid} is not running`);
    }
  }
  // The runner owns them: stopping is its job, after the last file of the pass.
  return { count: pids.length, nice: Number(m[2]), shared: true, stop: () => undefined };
}

/** Starts `count` busy-loop processes at `nice` (the same priority as the agent unless told otherwise). */
export function startBurners(opts: BurnerOptions = {}): Burners {
  const shared = process.env[SHARED_BURNERS_ENV];
  if (shared && opts.count === undefined && opts.nice === undefined) return sharedBurners(shared);
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
  return { count: children.length, nice, shared: false, stop, pids: children.flatMap((c) => (c.pid === undefined ? [] : [c.pid])) };
}
