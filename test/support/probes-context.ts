/** Test AgentContext for the probes area: real config schema, in-memory SQLite, real registry and bus. */
import Database from 'better-sqlite3';
import { Registry } from 'prom-client';
import { AgentBus } from '../../agent/runtime/bus.ts';
import { systemClock, type Clock } from '../../agent/base/clock.ts';
import type { AgentContext } from '../../agent/runtime/component.ts';
import { AgentConfigSchema, type AgentConfigInput } from '../../agent/config/schema.ts';
import { createLogger, silentLogger } from '../../agent/base/log.ts';

/** Builds a context from a config fragment; the caller closes `ctx.stateDb` when done. */
export function probesTestContext(config: AgentConfigInput, clock: Clock = systemClock, stateDb?: Database.Database): AgentContext {
  return {
    config: AgentConfigSchema.parse(config),
    // PROBES_TEST_LOG=debug|info: the agent's log lines on stderr (a lab client's stderr reaches the test's error)
    log: process.env.PROBES_TEST_LOG ? createLogger({ level: process.env.PROBES_TEST_LOG as 'debug', format: 'json', dest: process.stderr }) : silentLogger(),
    clock,
    metrics: new Registry(),
    bus: new AgentBus(),
    stateDir: '/nonexistent-probes-test',
    stateDb: stateDb ?? new Database(':memory:'),
    nodeName: 'probes-test-node',
  };
}
