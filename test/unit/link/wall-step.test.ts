/** The link state across steps of the wall clock while the agent runs: verdicts, dwells and figure ages keep their lengths. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../agent/base/clock.ts';
import { WALL_STEP_MS, WallStepWatch } from '../../../agent/base/wall-step.ts';
import { defaultLinkHealthConfig } from '../../../agent/config/link.ts';
import { shiftLinkState } from '../../../agent/core/link-shift.ts';
import { initialLinkState, step } from '../../../agent/core/link-state.ts';
import { linkClockRig } from '../../support/link-clock-rig.ts';
import { light } from '../../support/link-samples.ts';

const DAY = 86_400_000;
const DEAD = { reachable: false, targetsUp: 0, lossPercent: 100 };
const policy = defaultLinkHealthConfig();

test('the wall clock steps back a day (NTP correcting a clock that was ahead), then the uplink dies: it is down as fast as without the step', async () => {
  const r = await linkClockRig(1_800_000_000_000 + DAY, policy);
  try {
    r.feed(60);
    assert.equal(r.health('wan'), 'healthy');
    r.clock.stepWall(-DAY);
    r.feed(8, DEAD); // 16 s
    assert.equal(r.health('wan'), 'down', 'new samples are not held out as "older" than the pre-step ones');
  } finally {
    await r.done();
  }
});

test('the wall clock steps forward a day: a recovering uplink still serves its exit dwell, and figures are not all stale', async () => {
  const r = await linkClockRig(1_800_000_000_000, policy);
  try {
    r.feed(30);
    r.feed(8, DEAD);
    assert.equal(r.health('wan'), 'down');
    r.feed(1); // the first good round starts the exit dwell
    r.clock.stepWall(DAY);
    r.feed(1);
    assert.equal(r.health('wan'), 'down', 'the step does not count as a day of healthy samples');
    assert.equal(r.health('lte'), 'healthy', 'a healthy uplink stays healthy (its figures are not a day old)');
    r.feed(Math.ceil((policy.dwell.exitS * 1000) / 2_000) + 2);
    assert.equal(r.health('wan'), 'healthy', 'recovers after the ordinary exit dwell');
  } finally {
    await r.done();
  }
});

test('shiftLinkState moves every wall-clock time by the step, and nothing else', () => {
  let s = initialLinkState(['wan'], 1_000_000);
  s = step(s, light('wan', 1_000_000), 1_000_000, policy).state;
  s = step(s, light('wan', 1_002_000, DEAD), 1_002_000, policy).state;
  const moved = shiftLinkState(s, -500_000);
  const a = s.uplinks.wan!;
  const b = moved.uplinks.wan!;
  assert.equal(b.sinceMs, a.sinceMs - 500_000);
  assert.equal(b.metrics.lastMs, (a.metrics.lastMs ?? 0) - 500_000);
  for (const [f, t] of Object.entries(a.metrics.atMs)) assert.equal(b.metrics.atMs[f as keyof typeof a.metrics.atMs], t - 500_000, f);
  assert.equal(b.pending?.sinceMs, a.pending === null ? undefined : a.pending.sinceMs - 500_000);
  assert.equal(b.damping.atMs, a.damping.atMs - 500_000);
  assert.equal(moved.nodeSinceMs, s.nodeSinceMs - 500_000);
  assert.deepEqual(b.metrics.values, a.metrics.values);
  assert.equal(b.health, a.health);
  assert.equal(shiftLinkState(s, 0), s);
});

test('a sample stamped later than now (taken before the clock stepped back) counts as taken now', () => {
  let s = initialLinkState(['wan'], 1_000_000);
  s = step(s, light('wan', 1_000_000 + DAY), 1_000_000, policy).state;
  assert.equal(s.uplinks.wan!.metrics.lastMs, 1_000_000);
});

test('WallStepWatch: slewing and small jitter are no step; a step is reported once, with its sign', () => {
  const clock = new ManualClock(1_000_000);
  const w = new WallStepWatch(clock);
  clock.advance(60_000);
  clock.stepWall(WALL_STEP_MS); // at the threshold: not a step
  assert.equal(w.take().stepMs, 0);
  clock.stepWall(-DAY);
  assert.equal(w.take().stepMs, -DAY + WALL_STEP_MS);
  assert.equal(w.take().stepMs, 0, 'reported once');
  clock.stepWall(2 * DAY);
  assert.deepEqual(w.take(), { stepMs: 2 * DAY, suspendMs: 0 });
});
