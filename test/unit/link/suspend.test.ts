/** Suspends told apart from wall-clock steps, and the link state across one: dwells, holds and figure ages count awake time. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../agent/base/clock.ts';
import { SUSPEND_MIN_MS, WallStepWatch } from '../../../agent/base/wall-step.ts';
import { defaultLinkHealthConfig } from '../../../agent/config/link.ts';
import { linkClockRig } from '../../support/link-clock-rig.ts';
import { tput } from '../../support/link-samples.ts';

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

/** Clocks the test sets by hand: wall, monotonic and the suspended total (null: unreadable). */
function clocks() {
  const c = {
    wall: 1_800_000_000_000,
    mono: 5_000,
    susp: 0 as number | null,
    nowMs: () => c.wall,
    monoMs: () => c.mono,
    suspendedMs: () => c.susp,
  };
  return c;
}

test('WallStepWatch: without a suspended-time reading a sleep is a forward step; a reading that shrinks, then comes back, or comes back after none, is a baseline, never a jump', () => {
  const none = new ManualClock(1_800_000_000_000);
  const plain = new WallStepWatch({ nowMs: () => none.nowMs(), monoMs: () => none.monoMs() });
  none.suspend(8 * HOUR);
  assert.deepEqual(plain.take(), { stepMs: 8 * HOUR, suspendMs: 0 }, 'no addon: as before');

  const c = clocks();
  const w = new WallStepWatch(c);
  c.wall += 8 * HOUR;
  c.susp = null; // unreadable this once, mid-run
  const first = w.take();
  c.susp = 8 * HOUR; // readable again, the total includes the sleep
  const second = w.take();
  assert.deepEqual(
    [first, second],
    [
      { stepMs: 8 * HOUR, suspendMs: 0 },
      { stepMs: 0, suspendMs: 0 },
    ],
    'reported once, no false backward step',
  );
  c.susp = HOUR; // shrinks: the kernel's never does, so the source is faulty
  assert.deepEqual(w.take(), { stepMs: 0, suspendMs: 0 });
  c.susp = 8 * HOUR; // back to the true value: a baseline, not an 8-h sleep
  assert.deepEqual(w.take(), { stepMs: 0, suspendMs: 0 });
  c.wall += 8 * HOUR;
  c.susp += 8 * HOUR;
  assert.deepEqual(w.take(), { stepMs: 0, suspendMs: 8 * HOUR }, 'measured from the new baseline');
});

test('WallStepWatch: a sleep between the reads of one take() (or of the constructor) is reported by it; a short sleep pending at a step is counted once', () => {
  const c = clocks();
  const w = new WallStepWatch(c);
  let sleepNow = false;
  const read = c.suspendedMs;
  c.suspendedMs = () => {
    const v = read();
    if (sleepNow) {
      sleepNow = false;
      c.wall += 8 * HOUR;
      c.susp = (c.susp ?? 0) + 8 * HOUR;
    }
    return v;
  };
  sleepNow = true;
  assert.deepEqual(
    [w.take(), w.take()],
    [
      { stepMs: 0, suspendMs: 8 * HOUR },
      { stepMs: 0, suspendMs: 0 },
    ],
    'reported by the take it fell in (the pair is read again): decisions after it see moved times',
  );
  sleepNow = true;
  const v0 = new WallStepWatch(c); // and between the constructor's reads: no false backward step later
  assert.deepEqual(v0.take(), { stepMs: 0, suspendMs: 0 });

  const d = clocks();
  const v = new WallStepWatch(d);
  d.wall += 900;
  d.susp = 900; // below SUSPEND_MIN_MS: not reported yet
  d.wall += 5_000; // NTP steps +5 s
  const a = v.take();
  d.wall += 8 * HOUR;
  d.susp += 8 * HOUR;
  const b = v.take();
  assert.deepEqual(
    [a, b],
    [
      { stepMs: 5_000, suspendMs: 0 },
      { stepMs: 0, suspendMs: 8 * HOUR + 900 },
    ],
  );
  d.wall -= 200; // a small adjustment afterwards is no step
  assert.deepEqual(v.take(), { stepMs: 0, suspendMs: 0 });
});

const rig = () => linkClockRig(1_800_000_000_000, policy);

test('after an 8-h sleep a slow speed-test figure from before it keeps holding the uplink degraded (no flap to healthy and back) until re-measured', async () => {
  const r = await rig();
  try {
    r.feed(5);
    r.ctx.bus.emit('sample', tput('wan', r.clock.nowMs(), SLOW, SLOW));
    r.feed(Math.ceil((policy.dwell.enterS * 1000) / 2_000) + 2);
    assert.equal(r.view('wan')?.health, 'degraded', 'held by the slow speed test');
    r.clock.suspend(8 * HOUR);
    r.feed(Math.ceil((policy.dwell.exitS * 1000) / 2_000) + 5);
    assert.equal(r.view('wan')?.health, 'degraded', 'still held: its max-age counts awake time');
    assert.ok((r.view('wan')?.heldBy ?? []).includes('downloadMbps'));
    const fast = 2 * policy.thresholds.downloadMbps.degraded.exit;
    r.ctx.bus.emit('sample', tput('wan', r.clock.nowMs(), fast, fast));
    r.feed(Math.ceil((policy.dwell.exitS * 1000) / 2_000) + 2);
    assert.equal(r.view('wan')?.health, 'healthy', 'a fresh figure on waking clears it after the ordinary exit dwell');
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
