/** Test AgentContext for the link area that never leaves better-sqlite3 Statements for the garbage collector. */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { AgentBus } from '../../agent/runtime/bus.ts';
import { ManualClock, type Clock } from '../../agent/base/clock.ts';
import type { AgentContext } from '../../agent/runtime/component.ts';
import { validateConfig } from '../../agent/config/load.ts';
import type { AgentConfigInput } from '../../agent/config/schema.ts';
import { silentLogger } from '../../agent/base/log.ts';

/**
 * better-sqlite3 12 on Node 24 can abort the process (`RemoveEnvironmentCleanupHook: (env) != nullptr`) when the
 * GC finalizes a Statement at an unlucky moment. Everything holding Statements is kept reachable until exit, where
 * Node's environment cleanup finalizes them safely; WAL is set with exec() (pragma() would leave a Statement behind).
 */
const KEEP_ALIVE: unknown[] = [];

/** Keeps `v` (and every Statement it references) alive until the process exits. */
export function keepAlive<T>(v: T): T {
  KEEP_ALIVE.push(v);
  return v;
}

export interface LinkTestContext extends AgentContext {
  cleanup(): void;
}

export function makeLinkContext(input: AgentConfigInput = {}, opts: { clock?: Clock } = {}): LinkTestContext {
  const v = validateConfig(input);
  if (v.ok === false) throw new Error('test config invalid:\n' + v.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  const stateDir = mkdtempSync(join(tmpdir(), 'lw-link-'));
  const stateDb = new Database(join(stateDir, 'state.db'));
  stateDb.exec('PRAGMA journal_mode = WAL');
  return keepAlive({
    config: v.config,
    log: silentLogger(),
    clock: opts.clock ?? new ManualClock(),
    metrics: new Registry(),
    bus: new AgentBus(),
    stateDir,
    stateDb,
    nodeName: 'test-node',
    cleanup(): void {
      try {
        if (stateDb.open) stateDb.close();
      } finally {
        rmSync(stateDir, { recursive: true, force: true });
      }
    },
  });
}
