/** The selection policy fed by the real link-state machine with its default thresholds: random 1 % loss and a 5 s flap. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProbeSample } from '../../../agent/core/types.ts';
import { initialLinkState, setActive, step as linkStep, toSnapshot, evaluate } from '../../../agent/core/link-state.ts';
import { defaultLinkHealthConfig } from '../../../agent/link/config.ts';
import { defaultRoutePolicy } from '../../../agent/route/config.ts';
import { committed, initialPolicyState, step, type PolicyUplink } from '../../../agent/route/policy.ts';

const T0 = 1_700_000_000_000;
const UPLINKS: PolicyUplink[] = [
  { name: 'wan', priority: 10, idleDown: false, warmupMs: 0 },
  { name: 'lte', priority: 20, idleDown: false, warmupMs: 0 },
];
/** Like the probes package: a sliding window of 20 probe packets (probes.light.windowPackets default), 3 per round, one round every 5 s. */
const WINDOW_PACKETS = 20;
const PACKETS_PER_ROUND = 3;
const ROUND_MS = 5_000;

/** Runs link-state + policy for `durationMs`; `lost(uplink, t)` says whether one probe packet is lost. */
function run(durationMs: number, lost: (uplink: string, t: number) => boolean): { switches: number[] } {
  const health = defaultLinkHealthConfig();
  const cfg = { ...defaultRoutePolicy(), health };
  let ls = initialLinkState(['wan', 'lte'], T0);
  let ps = committed(initialPolicyState('wan'), 'wan', 'initial', T0);
  ls = setActive(ls, 'wan', T0, health).state;
  const windows: Record<string, boolean[]> = { wan: [], lte: [] };
  const switches: number[] = [];
  for (let t = T0; t < T0 + durationMs; t += ROUND_MS) {
    for (const u of ['wan', 'lte']) {
      const round = Array.from({ length: PACKETS_PER_ROUND }, () => lost(u, t));
      windows[u] = [...windows[u]!, ...round].slice(-WINDOW_PACKETS);
      const w = windows[u]!;
      const sample: ProbeSample = { uplink: u, kind: 'light', atMs: t, rttMs: 30, jitterMs: 2, lossPercent: (100 * w.filter(Boolean).length) / w.length, targetsUp: round.every(Boolean) ? 0 : 1, targetsTotal: 1, reachable: !round.every(Boolean), bytesUsed: 500 };
      ls = linkStep(ls, sample, t, health).state;
    }
    ls = evaluate(ls, t, health).state;
    const r = step(ps, UPLINKS, toSnapshot(ls, t), cfg, t);
    ps = r.state;
    if (r.action.kind === 'switch') {
      switches.push(t - T0);
      if (process.env.LWR_DEBUG) console.log(t - T0, JSON.stringify(r.action), JSON.stringify(toSnapshot(ls, t).uplinks));
      ps = committed(ps, r.action.to, r.action.reason, t);
      ls = setActive(ls, r.action.to, t, health).state;
    }
  }
  return { switches };
}

test('1 % random packet loss on the active uplink causes no switch in 6 hours (5 seeds)', () => {
  for (const start of [7, 11, 23, 42, 99]) {
    let seed = start;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const { switches } = run(6 * 3_600_000, (u) => u === 'wan' && rand() < 0.01);
    assert.deepEqual(switches, [], `seed ${start}`);
  }
});

test('sustained 10 % loss on the active uplink does switch (the damping is not deafness)', () => {
  let seed = 5;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const { switches } = run(3_600_000, (u) => u === 'wan' && rand() < 0.1);
  assert.equal(switches.length, 1, JSON.stringify(switches));
});

test('an uplink flapping every 5 s causes at most one switch per 10 minutes', () => {
  const { switches } = run(3_600_000, (u, t) => u === 'wan' && Math.floor((t - T0) / 5_000) % 2 === 1);
  for (let w = 0; w < 3_600_000; w += 600_000) assert.ok(switches.filter((s) => s >= w && s < w + 600_000).length <= 1, JSON.stringify(switches));
  assert.ok(switches.length >= 1, 'the flapping uplink was left at least once');
});
