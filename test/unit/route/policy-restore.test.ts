/** The policy state saved by a previous run resumes without a saved time reaching past what its rule allows from now. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultRoutePolicy } from '../../../agent/config/route.ts';
import { rateLimit } from '../../../agent/route/candidates.ts';
import { initialPolicyState } from '../../../agent/route/policy.ts';
import { restoredPolicy } from '../../../agent/route/policy-restore.ts';

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
