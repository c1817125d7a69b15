/** The link state across a system suspend: speed-test figures age by the sleep, dwells and holds count awake time only. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, type Clock } from '../../../agent/base/clock.ts';
import { SUSPEND_MIN_MS, WallStepWatch } from '../../../agent/base/wall-step.ts';
import { defaultLinkHealthConfig } from '../../../agent/config/link.ts';
import { shiftLinkState, sleepLinkState } from '../../../agent/core/link-shift.ts';
import { initialLinkState, step } from '../../../agent/core/link-state.ts';
import { createLinkComponent } from '../../../agent/link/component.ts';
import { keepAlive, makeLinkContext } from '../../support/link-context.ts';
import { light, tput } from '../../support/link-samples.ts';

const HOUR = 3_600_000;
const DEAD = { reachable: false, targetsUp: 0, lossPercent: 100 };
const policy = defaultLinkHealthConfig();
const SLOW = policy.thresholds.downloadMbps.degraded.enter / 4;

test('WallStepWatch: a suspend is reported apart from a step, also when the wall clock is stepped during it', () => {
  const clock = new ManualClock(1_800_000_000_000);
  const w = new WallStepWatch(clock);
  clock.advance(10_000);
  clock.suspend(8 * HOUR);
  assert.deepEqual(w.take(), { stepMs: 0, suspendMs: 8 * HOUR });
  assert.deepEqual(w.take(), { stepMs: 0, suspendMs: 0 }, 'reported once');
  clock.suspend(8 * HOUR);
  clock.stepWall(-HOUR); // NTP corrects the RTC's drift on waking
  assert.deepEqual(w.take(), { stepMs: -HOUR, suspendMs: 8 * HOUR });
  clock.suspend(SUSPEND_MIN_MS / 2);
  assert.deepEqual(w.take(), { stepMs: 0, suspendMs: 0 }, 'a short sleep is no jump at all');
  clock.suspend(SUSPEND_MIN_MS);
  assert.deepEqual(w.take(), { stepMs: 0, suspendMs: 1.5 * SUSPEND_MIN_MS }, 'it accumulates');
});

/** A clock whose suspended-time reading is scripted (null: unreadable). */
function scripted(readings: (number | null)[]): Pick<Clock, 'nowMs' | 'monoMs' | 'suspendedMs'> & { wall: number } {
  const c = { wall: 1_800_000_000_000, nowMs: () => c.wall, monoMs: () => 5_000, suspendedMs: () => (readings.length > 1 ? readings.shift()! : readings[0]!) };
  return c;
}

test('WallStepWatch: without a suspended-time reading a sleep is a forward step; a reading that shrinks or comes late is a baseline, never a jump', () => {
  const none = new ManualClock(1_800_000_000_000);
  const plain = new WallStepWatch({ nowMs: () => none.nowMs(), monoMs: () => none.monoMs() });
  none.suspend(8 * HOUR);
  assert.deepEqual(plain.take(), { stepMs: 8 * HOUR, suspendMs: 0 }, 'no addon: as before');

  const late = scripted([null, 7 * HOUR, 7 * HOUR]);
  const w1 = new WallStepWatch(late);
  assert.deepEqual(w1.take(), { stepMs: 0, suspendMs: 0 }, 'first good reading after a failed one: the baseline');
  late.wall += 8 * HOUR;
  assert.deepEqual(w1.take(), { stepMs: 8 * HOUR, suspendMs: 0 });

  const shrink = scripted([2 * HOUR, HOUR, HOUR + 8 * HOUR]);
  const w2 = new WallStepWatch(shrink);
  assert.deepEqual(w2.take(), { stepMs: 0, suspendMs: 0 }, 'shrinking: no backward jump of any kind');
  shrink.wall += 8 * HOUR;
  assert.deepEqual(w2.take(), { stepMs: 0, suspendMs: 8 * HOUR }, 'measured from the new baseline');
});

test('sleepLinkState moves dwells, holds, damping and light figures by the sleep, never a speed-test figure', () => {
  let s = initialLinkState(['wan'], 1_000_000);
  s = step(s, tput('wan', 1_000_000, SLOW, SLOW), 1_000_000, policy).state;
  s = step(s, light('wan', 1_002_000, DEAD), 1_002_000, policy).state;
  const slept = sleepLinkState(s, 8 * HOUR);
  const a = s.uplinks.wan!;
  const b = slept.uplinks.wan!;
  assert.equal(b.sinceMs, a.sinceMs + 8 * HOUR);
  assert.equal(b.damping.atMs, a.damping.atMs + 8 * HOUR);
  assert.equal(slept.nodeSinceMs, s.nodeSinceMs + 8 * HOUR);
  assert.equal(b.metrics.atMs.lossPercent, (a.metrics.atMs.lossPercent ?? 0) + 8 * HOUR);
  assert.equal(b.metrics.atMs.downloadMbps, a.metrics.atMs.downloadMbps, 'a speed test is as old as it is');
  assert.equal(b.metrics.atMs.uploadMbps, a.metrics.atMs.uploadMbps);
  assert.equal(shiftLinkState(s, 8 * HOUR).uplinks.wan!.metrics.atMs.downloadMbps, (a.metrics.atMs.downloadMbps ?? 0) + 8 * HOUR, 'a step moves it');
});

/** The link component on a manual clock, fed a light sample per uplink every 2 s. */
async function rig() {
  const clock = new ManualClock(1_800_000_000_000);
  const ctx = makeLinkContext(
    {
      uplinks: [
        { name: 'wan', priority: 10 },
        { name: 'lte', priority: 20 },
      ],
    },
    { clock },
  );
  const comp = keepAlive(createLinkComponent(ctx, { health: policy }));
  await comp.start();
  const feed = (rounds: number, wan: Parameters<typeof light>[2] = {}): void => {
    for (let i = 0; i < rounds; i++) {
      for (const u of ['wan', 'lte']) ctx.bus.emit('sample', light(u, clock.nowMs(), u === 'wan' ? wan : {}));
      clock.advance(2_000);
    }
  };
  const view = (u: string) => ctx.bus.latestLink()?.uplinks[u];
  return { clock, ctx, feed, view, done: async () => (await comp.stop(), ctx.cleanup()) };
}

test('after an 8-h sleep a speed-test figure from before it has expired: a slow one no longer holds the uplink degraded, yet the exit dwell counts awake time', async () => {
  const r = await rig();
  try {
    r.feed(5);
    r.ctx.bus.emit('sample', tput('wan', r.clock.nowMs(), SLOW, SLOW));
    r.feed(Math.ceil((policy.dwell.enterS * 1000) / 2_000) + 2);
    assert.equal(r.view('wan')?.health, 'degraded', 'held by the slow speed test');
    r.clock.suspend(8 * HOUR);
    r.feed(1);
    assert.equal(r.view('wan')?.health, 'degraded', 'not healthy at once: the exit dwell has not been served awake');
    const age = r.clock.nowMs() - (r.view('wan')?.measuredAtMs?.downloadMbps ?? 0);
    assert.ok(age >= 8 * HOUR, `the pre-sleep figure shows its age: ${age} ms`);
    assert.ok(!(r.view('wan')?.heldBy ?? []).includes('downloadMbps'), 'expired: it holds nothing');
    r.feed(Math.ceil((policy.dwell.exitS * 1000) / 2_000) + 2);
    assert.equal(r.view('wan')?.health, 'healthy', 'recovers after the ordinary exit dwell on fresh light figures');
  } finally {
    await r.done();
  }
});

test('a real forward step keeps the same slow figure fresh (it is the clock that moved, not time)', async () => {
  const r = await rig();
  try {
    r.feed(5);
    r.ctx.bus.emit('sample', tput('wan', r.clock.nowMs(), SLOW, SLOW));
    r.feed(Math.ceil((policy.dwell.enterS * 1000) / 2_000) + 2);
    r.clock.stepWall(8 * HOUR);
    r.feed(Math.ceil((policy.dwell.exitS * 1000) / 2_000) + 2);
    assert.equal(r.view('wan')?.health, 'degraded');
    assert.ok((r.view('wan')?.heldBy ?? []).includes('downloadMbps'), 'still fresh, still holding');
  } finally {
    await r.done();
  }
});

test('an uplink one round into its exit dwell when the system sleeps still serves the dwell awake: no recovery on the pre-sleep round', async () => {
  const r = await rig();
  try {
    r.feed(30);
    r.feed(8, DEAD);
    assert.equal(r.view('wan')?.health, 'down');
    r.feed(1); // the first good round starts the exit dwell
    r.clock.suspend(8 * HOUR);
    r.feed(1);
    assert.equal(r.view('wan')?.health, 'down', 'the sleep is not a dwell of healthy samples');
    assert.equal(r.view('lte')?.health, 'healthy', 'a healthy uplink stays healthy: its light figures are not 8 h old');
    r.feed(Math.ceil((policy.dwell.exitS * 1000) / 2_000) + 2);
    assert.equal(r.view('wan')?.health, 'healthy');
  } finally {
    await r.done();
  }
});
