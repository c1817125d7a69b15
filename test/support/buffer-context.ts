/** Test AgentContext for the buffer: real config schema, silent logger, own registry/bus, temp state dir. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Registry } from 'prom-client';
import { AgentBus } from '../../agent/runtime/bus.ts';
import { systemClock, type Clock } from '../../agent/base/clock.ts';
import type { AgentContext } from '../../agent/runtime/component.ts';
import { AgentConfigSchema, type AgentConfigInput } from '../../agent/config/schema.ts';
import { createLogger, silentLogger } from '../../agent/base/log.ts';

export interface BufferTestContext {
  ctx: AgentContext;
  dir: string;
  cleanup(): void;
}

/** Builds a context; `stateDir` defaults to a fresh temp dir removed by cleanup(). */
export function bufferContext(input: AgentConfigInput, opts: { clock?: Clock; stateDir?: string } = {}): BufferTestContext {
  const dir = opts.stateDir ?? mkdtempSync(join(tmpdir(), 'buffer-ctx-'));
  const config = AgentConfigSchema.parse(input);
  const ctx: AgentContext = {
    config,
    // BUFFER_TEST_LOG=debug shows the component's logs on stderr when a test needs explaining.
    log: process.env.BUFFER_TEST_LOG ? createLogger({ level: process.env.BUFFER_TEST_LOG as 'debug', format: 'pretty', dest: process.stderr }) : silentLogger(),
    clock: opts.clock ?? systemClock,
    metrics: new Registry(),
    bus: new AgentBus(),
    stateDir: dir,
    stateDb: new Database(':memory:'),
    nodeName: 'test-node',
  };
  return {
    ctx,
    dir,
    cleanup: () => {
      if (!opts.stateDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
