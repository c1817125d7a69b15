/** Builds a real AgentContext for component tests: temp state dir + state.db, silent logger, given clock. */
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
import { silentLogger, type Logger } from '../../agent/base/log.ts';

export interface TestContext extends AgentContext {
  /** Removes the temp directory and closes the DB. */
  cleanup(): void;
}

/** A context with a validated config built from `input` (throws with every problem if invalid). */
export function makeTestContext(input: AgentConfigInput = {}, opts: { clock?: Clock; log?: Logger; nodeName?: string } = {}): TestContext {
  const v = validateConfig(input);
  if (!v.ok) throw new Error('test config invalid:\n' + v.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  const stateDir = mkdtempSync(join(tmpdir(), 'lw-test-'));
  const stateDb = new Database(join(stateDir, 'state.db'));
  stateDb.pragma('journal_mode = WAL');
  return {
    config: v.config,
    log: opts.log ?? silentLogger(),
    clock: opts.clock ?? new ManualClock(),
    metrics: new Registry(),
    bus: new AgentBus(),
    stateDir,
    stateDb,
    nodeName: opts.nodeName ?? 'test-node',
    cleanup(): void {
      try {
        stateDb.close();
      } finally {
        rmSync(stateDir, { recursive: true, force: true });
      }
    },
  };
}
