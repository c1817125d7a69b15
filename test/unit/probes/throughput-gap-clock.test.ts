/** The time of the last throughput figure is kept on the monotonic clock: re-test and on-demand gaps survive wall-clock steps. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../agent/base/clock.ts';
import { ProbesConfigSchema } from '../../../agent/config/probes.ts';
import type { ProbeSample } from '../../../agent/core/types.ts';
import type { MonitorDeps } from '../../../probes/monitor-deps.ts';
import { ThroughputTests, type TestSurroundings } from '../../../probes/throughput-tests.ts';

const DAY = 86_400_000;

/** ThroughputTests whose every run is proven by observed traffic (no network): a figure at each run. */
function rig() {
  const clock = new ManualClock(1_800_000_000_000);
  const cfg = ProbesConfigSchema.parse({ throughput: { url: 'http://127.0.0.1:9/' } });
  const emitted: ProbeSample[] = [];
  const deps = {
    uplink: { name: 'wan' },
    cfg,
    clock,
    store: { record: () => undefined },
    metrics: { observe: () => undefined, skipped: () => undefined },
    emit: (s: ProbeSample) => emitted.push(s),
  } as unknown as MonitorDeps;
  const surroundings = {
    passive: { provesThresholds: () => ({ rxMbps: 90, txMbps: 20 }), carrierField: () => ({}) },
  } as unknown as TestSurroundings;
  return { clock, tests: new ThroughputTests(deps, surroundings), emitted };
}

for (const step of [-DAY, DAY]) {
  test(`the last figure's time keeps its age when the wall clock steps ${step < 0 ? 'back' : 'forward'} a day`, async () => {
    const r = rig();
    assert.equal(r.tests.lastMs(), Number.NEGATIVE_INFINITY, 'none yet');
    await r.tests.run({});
    assert.equal(r.emitted.length, 1);
    r.clock.advance(60_000);
    r.clock.stepWall(step);
    assert.equal(r.clock.nowMs() - r.tests.lastMs(), 60_000, 'a minute ago, not a day and a minute (or minus a day)');
  });
}
