/** "Run now, coalesce, rerun if dirty": one runner for work that must not overlap and must always end on the latest input. */

export interface Coalescer {
  /**
   * Starts the task now; if a run is in flight, marks it dirty instead so that exactly one more run follows it.
   * Resolves when the run that covers this call (the current one plus its rerun) has finished. Never rejects.
   */
  run(): Promise<void>;
  /** Whether a run (or its rerun) is in flight. */
  busy(): boolean;
  /** Resolves when nothing is in flight. */
  idle(): Promise<void>;
}

/**
 * Many triggers (snapshots, timers, operator requests) may arrive while the task runs; they collapse into one
 * follow-up run, which reads the state as it is then. A failing run is reported through `onError` and does not
 * stop the follow-up. `blocked()` (optional) holds new runs back, e.g. during a backoff: calls while blocked only
 * mark the work dirty, and `run()` once unblocked does it.
 */
export function createCoalescer(task: () => Promise<void>, onError: (e: unknown) => void, blocked: () => boolean = () => false): Coalescer {
  let current: Promise<void> | null = null;
  let dirty = false;

  const loop = async (): Promise<void> => {
    try {
      do {
        dirty = false;
        try {
          await task();
        } catch (e) {
          onError(e);
        }
      } while (dirty && !blocked());
    } finally {
      current = null;
    }
  };

  return {
    run() {
      if (current) {
        dirty = true;
        return current;
      }
      if (blocked()) {
        dirty = true;
        return Promise.resolve();
      }
      current = loop();
      return current;
    },
    busy: () => current !== null,
    idle: () => current ?? Promise.resolve(),
  };
}
