/** Route policy state across wall-clock changes: restored from a previous run (capped), moved with a step while running. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultRoutePolicy } from '../../../agent/config/route.ts';
import { rateLimit } from '../../../agent/route/candidates.ts';
import { initialPolicyState, observe } from '../../../agent/route/policy.ts';
import type { LinkSnapshot } from '../../../agent/core/types.ts';
import { restoredPolicy, shiftedPolicy } from '../../../agent/route/policy-restore.ts';

const NOW = 1_800_000_000_000;
const HOLD_DOWN_MS = 60_000;
const DAY_MS = 86_400_000;

test('a hold-down saved while the clock was a day ahead ends within holdDown of the restart; expired ones are dropped', () => {
  const s = restoredPolicy({ active: 'wan', holdDownUntil: { lte: NOW + DAY_MS, sat: NOW + 10_000, dsl: NOW - 1 } }, NOW, HOLD_DOWN_MS);
  assert.deepEqual(s.holdDownUntil, { lte: NOW + HOLD_DOWN_MS, sat: NOW + 10_000 });
  assert.equal(s.active, 'wan');
});

test('switch and wake times in the future are brought back to now; past ones are kept as saved', () => {
  const s = restoredPolicy(
    {
      active: 'lte',
      switchLog: [NOW - 5_000, NOW + DAY_MS],
      lastSwitchMs: NOW + DAY_MS,
      awake: { lte: NOW + DAY_MS, sat: NOW - 7_000 },
      failoversFrom: { wan: [NOW + DAY_MS, NOW - 1_000] },
      tracks: { wan: { bogus: true } },
    },
    NOW,
    HOLD_DOWN_MS,
  );
  assert.deepEqual(s.switchLog, [NOW - 5_000, NOW]);
  assert.equal(s.lastSwitchMs, NOW);
  assert.deepEqual(s.awake, { lte: NOW, sat: NOW - 7_000 });
  assert.deepEqual(s.failoversFrom, { wan: [NOW, NOW - 1_000] });
  assert.deepEqual(s.tracks, {}, 'samples are re-learnt after a restart');
});

test('the operator override keeps its own end', () => {
  const s = restoredPolicy({ active: 'lte', override: { uplink: 'lte', untilMs: NOW + DAY_MS } }, NOW, HOLD_DOWN_MS);
  assert.deepEqual(s.override, { uplink: 'lte', untilMs: NOW + DAY_MS });
  assert.deepEqual(restoredPolicy({ override: { uplink: 'lte', untilMs: null } }, NOW, HOLD_DOWN_MS).override, { uplink: 'lte', untilMs: null });
});

test('values of the wrong shape read as their empty defaults', () => {
  for (const bad of [null, 'policy', 42, [1, 2]]) assert.deepEqual(restoredPolicy(bad, NOW, HOLD_DOWN_MS), initialPolicyState(), String(bad));
  const s = restoredPolicy(
    {
      active: 7,
      holdDownUntil: { lte: 'soon', sat: NOW + 1_000 },
      switchLog: 'often',
      lastSwitchMs: 'then',
      override: { uplink: 3 },
      awake: [NOW],
      failoversFrom: { wan: 'x', lte: [null, NOW - 1] },
    },
    NOW,
    HOLD_DOWN_MS,
  );
  assert.deepEqual(s, {
    ...initialPolicyState(),
    holdDownUntil: { sat: NOW + 1_000 },
    failoversFrom: { lte: [NOW - 1] },
  });
});

test('state saved by an older agent (no failoversFrom) restores with an empty one', () => {
  const s = restoredPolicy({ active: 'wan', holdDownUntil: {}, switchLog: [], lastSwitchMs: null, override: null, awake: {} }, NOW, HOLD_DOWN_MS);
  assert.deepEqual(s, initialPolicyState('wan'));
});

test('restored after a clock a day ahead, discretionary switches are limited as from a switch just now, not for a day', () => {
  const cfg = defaultRoutePolicy();
  const saved = { active: 'wan', switchLog: Array.from({ length: cfg.maxSwitchesPerHour }, () => NOW + DAY_MS), lastSwitchMs: NOW + DAY_MS };
  const later = NOW + Math.max(cfg.minSwitchInterval, 3_600_000) + 1;
  // the saved state as it was would still be capped then: the rule this file exists for
  assert.match(rateLimit({ ...initialPolicyState('wan'), ...saved }, cfg, later) ?? '', /last switch/);
  assert.equal(rateLimit(restoredPolicy(saved, NOW, HOLD_DOWN_MS), cfg, later), null);
});

test('a step of the wall clock while running moves every policy time by it, so holds and "healthy for" keep their lengths', () => {
  const s = {
    ...initialPolicyState('lte'),
    tracks: { wan: { lastSampleAtMs: NOW - 1_000, healthyStreak: 5, upStreak: 5, healthySinceMs: NOW - 60_000, smoothedBadSinceMs: null } },
    holdDownUntil: { sat: NOW + 30_000 },
    switchLog: [NOW - 600_000],
    lastSwitchMs: NOW - 600_000,
    override: { uplink: 'lte', untilMs: NOW + 3_600_000 },
    awake: { sat: NOW - 5_000 },
    failoversFrom: { wan: [NOW - 600_000] },
  };
  const back = shiftedPolicy(s, -DAY_MS);
  const now = NOW - DAY_MS; // the clock after the step
  assert.equal(now - (back.tracks.wan?.healthySinceMs ?? 0), 60_000, 'healthy for 60 s still, not for minus a day');
  assert.equal(back.tracks.wan?.lastSampleAtMs, now - 1_000);
  assert.equal(back.tracks.wan?.smoothedBadSinceMs, null);
  assert.equal(back.tracks.wan?.healthyStreak, 5);
  assert.deepEqual(back.holdDownUntil, { sat: now + 30_000 });
  assert.deepEqual(back.switchLog, [now - 600_000]);
  assert.equal(back.lastSwitchMs, now - 600_000);
  assert.deepEqual(back.override, { uplink: 'lte', untilMs: now + 3_600_000 });
  assert.deepEqual(back.awake, { sat: now - 5_000 });
  assert.deepEqual(back.failoversFrom, { wan: [now - 600_000] });
  assert.equal(shiftedPolicy(s, 0), s);
  const cfg = defaultRoutePolicy();
  // the caps judge the same interval after the step as before it
  assert.equal(rateLimit(back, cfg, now) === null, rateLimit(s, cfg, NOW) === null);
});

test('after a step back, one more snapshot of the old frame does not stop later samples from counting as new', () => {
  const snapAt = (atMs: number): LinkSnapshot => ({
    atMs,
    node: 'healthy',
    active: 'wan',
    uplinks: { lte: { name: 'lte', health: 'healthy', sinceMs: atMs - 60_000, reasons: [], latest: { atMs, rttMs: 30, lossPercent: 0 } } },
  });
  let s = observe(initialPolicyState('wan'), snapAt(NOW), NOW);
  s = observe(s, snapAt(NOW + 2_000), NOW + 2_000);
  assert.equal(s.tracks.lte?.healthyStreak, 2);
  // the clock steps back a day: the route moves its times first, then sees the link's last old-frame snapshot once more
  const now = NOW + 2_000 - DAY_MS;
  s = shiftedPolicy(s, -DAY_MS);
  s = observe(s, snapAt(NOW + 2_000), now);
  // the link moves its times too; its next samples are in the new frame
  s = observe(s, snapAt(now + 2_000), now + 2_000);
  s = observe(s, snapAt(now + 4_000), now + 4_000);
  assert.ok((s.tracks.lte?.healthyStreak ?? 0) >= 4, `streak ${s.tracks.lte?.healthyStreak}: new samples still count`);
});
