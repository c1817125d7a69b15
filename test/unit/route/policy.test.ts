/** Unit tests of the uplink selection policy: failover, failback hold and margin, caps, hold-down, override, flap damping. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LinkHealth, LinkSnapshot } from '../../../agent/core/types.ts';
import { defaultRoutePolicy } from '../../../agent/config/route.ts';
import {
  committed,
  initialPolicyState,
  rolledBack,
  step,
  withOverride,
  type PolicyConfig,
  type PolicyState,
  type PolicyUplink,
} from '../../../agent/route/policy.ts';

const T0 = 1_700_000_000_000;
const UPLINKS: PolicyUplink[] = [
  { name: 'wan', priority: 10, idleDown: false, warmupMs: 0 },
  { name: 'lte', priority: 20, idleDown: false, warmupMs: 0 },
];
const CFG: PolicyConfig = defaultRoutePolicy();

interface LinkIn {
  health: LinkHealth;
  sinceMs?: number;
  rttMs?: number;
  lossPercent?: number;
}

/** Builds a snapshot where every uplink has a new sample at `nowMs`. */
function snap(nowMs: number, links: Record<string, LinkIn>): LinkSnapshot {
  const uplinks: LinkSnapshot['uplinks'] = {};
  for (const [name, l] of Object.entries(links)) {
    uplinks[name] = {
      name,
      health: l.health,
      sinceMs: l.sinceMs ?? T0,
      reasons: l.health === 'healthy' ? [] : ['loss=100%>20'],
      latest: { atMs: nowMs, rttMs: l.rttMs ?? 30, lossPercent: l.lossPercent ?? 0 },
    };
  }
  return { atMs: nowMs, node: 'unknown', active: null, uplinks };
}

/** Runs the policy over a scenario, committing every switch at once; returns the switches made. */
function simulate(
  start: PolicyState,
  until: number,
  every: number,
  links: (t: number) => Record<string, LinkIn>,
  cfg = CFG,
  uplinks = UPLINKS,
): { state: PolicyState; switches: { at: number; to: string; reason: string }[] } {
  let state = start;
  const switches: { at: number; to: string; reason: string }[] = [];
  for (let t = T0; t <= T0 + until; t += every) {
    const r = step(state, uplinks, snap(t, links(t)), cfg, t);
    state = r.state;
    if (r.action.kind === 'switch') {
      switches.push({ at: t - T0, to: r.action.to, reason: r.action.reason });
      state = committed(state, r.action.to, r.action.reason, t);
    }
  }
  return { state, switches };
}

test('starts on the preferred uplink when nothing is active', () => {
  const r = step(initialPolicyState(), UPLINKS, snap(T0, { wan: { health: 'unknown' }, lte: { health: 'unknown' } }), CFG, T0);
  assert.deepEqual(r.action.kind === 'switch' && [r.action.to, r.action.reason], ['wan', 'initial']);
});

test('fails over only after the candidate was healthy for N samples, then fails back after the hold', () => {
  // wan down from 10 s to 60 s; samples every second.
  const { switches } = simulate(initialPolicyState('wan'), 400_000, 1000, (t) => {
    const down = t - T0 >= 10_000 && t - T0 < 60_000;
    return { wan: { health: down ? 'down' : 'healthy', sinceMs: down ? T0 + 10_000 : t - T0 >= 60_000 ? T0 + 60_000 : T0 }, lte: { health: 'healthy' } };
  });
  assert.deepEqual(switches, [
    { at: 10_000, to: 'lte', reason: 'failover' },
    { at: 60_000 + 120_000, to: 'wan', reason: 'failback' },
  ]);
});

test('a fresh candidate needs candidateSamples healthy samples first', () => {
  const { switches } = simulate(initialPolicyState('wan'), 20_000, 1000, (t) => ({
    wan: { health: 'down' },
    lte: { health: t - T0 >= 5000 ? 'healthy' : 'down' },
  }));
  // lte healthy at 5 s, 6 s, 7 s → third sample at 7 s.
  assert.deepEqual(switches, [{ at: 7000, to: 'lte', reason: 'failover' }]);
});

test('no failback when the preferred uplink is worse than the active one by more than the margin', () => {
  const { switches } = simulate(initialPolicyState('lte'), 600_000, 1000, () => ({
    wan: { health: 'healthy', rttMs: 200 },
    lte: { health: 'healthy', rttMs: 40 },
  }));
  assert.deepEqual(switches, []);
  const ok = simulate(initialPolicyState('lte'), 600_000, 1000, () => ({ wan: { health: 'healthy', rttMs: 80 }, lte: { health: 'healthy', rttMs: 40 } }));
  assert.deepEqual(ok.switches, [{ at: 120_000, to: 'wan', reason: 'failback' }]);
});

test('a link flapping every 5 s causes at most one switch per 10 minutes', () => {
  for (const bad of ['down', 'degraded'] as const) {
    const { switches } = simulate(initialPolicyState('wan'), 3_600_000, 1000, (t) => {
      const phase = Math.floor((t - T0) / 5000);
      const h: LinkHealth = phase % 2 === 1 ? bad : 'healthy';
      return { wan: { health: h, sinceMs: T0 + phase * 5000 }, lte: { health: 'healthy' } };
    });
    assert.equal(switches.length, bad === 'down' ? 1 : 0, `${bad}: ${JSON.stringify(switches)}`);
    for (let w = 0; w < 3_600_000; w += 600_000) assert.ok(switches.filter((s) => s.at >= w && s.at < w + 600_000).length <= 1);
  }
});

test('both uplinks flapping out of phase: every switch leaves a down uplink for a healthy one; degraded flapping is capped', () => {
  const down = simulate(
    initialPolicyState('wan'),
    600_000,
    1000,
    (t) => {
      const phase = Math.floor((t - T0) / 5000);
      return {
        wan: { health: phase % 2 ? 'down' : 'healthy', sinceMs: T0 + phase * 5000 },
        lte: { health: phase % 2 ? 'healthy' : 'down', sinceMs: T0 + phase * 5000 },
      };
    },
    { ...CFG, candidateSamples: 1 },
  );
  // Never staying on a down uplink beats the caps (the link-state dwell keeps real flapping links from looking healthy).
  for (const sw of down.switches) assert.equal(sw.to, Math.floor(sw.at / 5000) % 2 ? 'lte' : 'wan', JSON.stringify(sw));
  const degraded = simulate(
    initialPolicyState('wan'),
    3_600_000,
    1000,
    (t) => {
      const phase = Math.floor((t - T0) / 150_000);
      return {
        wan: { health: phase % 2 ? 'degraded' : 'healthy', sinceMs: T0 + phase * 150_000 },
        lte: { health: phase % 2 ? 'healthy' : 'degraded', sinceMs: T0 + phase * 150_000 },
      };
    },
    { ...CFG, candidateSamples: 1 },
  );
  assert.ok(degraded.switches.length <= CFG.maxSwitchesPerHour, JSON.stringify(degraded.switches));
  for (let i = 1; i < degraded.switches.length; i++) assert.ok(degraded.switches[i]!.at - degraded.switches[i - 1]!.at >= CFG.minSwitchInterval);
});

test('healthy active with occasional loss: no switch', () => {
  const { switches } = simulate(initialPolicyState('wan'), 3_600_000, 1000, (t) => ({
    wan: { health: 'healthy', lossPercent: (t / 1000) % 100 === 0 ? 1 : 0 },
    lte: { health: 'healthy', lossPercent: 0, rttMs: 10 },
  }));
  assert.deepEqual(switches, []);
});

test('a failed confirm holds the candidate down for discretionary switches only, and counts against the cap', () => {
  const links = (wan: LinkHealth) => ({ wan: { health: wan, sinceMs: T0 }, lte: { health: 'healthy' as const } });
  let state = initialPolicyState('wan');
  for (let i = 0; i < 3; i++) state = step(state, UPLINKS, snap(T0 + i * 1000, links('degraded')), CFG, T0 + i * 1000).state;
  state = rolledBack(state, 'wan', 'lte', CFG, T0 + 3000);
  assert.equal(state.active, 'wan');
  assert.equal(state.switchLog.length, 1);
  // A failed confirm restarts the candidate's streak: it needs candidateSamples new samples again.
  const again = (from: PolicyState, at: number, wan: LinkHealth) => {
    let r = step(from, UPLINKS, snap(at, links(wan)), CFG, at);
    for (let i = 1; i < CFG.candidateSamples; i++) r = step(r.state, UPLINKS, snap(at + i * 1000, links(wan)), CFG, at + i * 1000);
    return r;
  };
  assert.match(step(state, UPLINKS, snap(T0 + 4000, links('down')), CFG, T0 + 4000).action.why, /lte healthy for only 1 of 3 samples/);
  // wan degraded: leaving it is discretionary, so lte's hold-down applies and the text says so.
  const held = again(state, T0 + 200_000, 'degraded');
  assert.equal(held.action.kind, 'none');
  assert.match(held.action.why, /lte held down \d+s more after a failed confirm/);
  const later = step(held.state, UPLINKS, snap(T0 + 3000 + CFG.holdDown, links('degraded')), CFG, T0 + 3000 + CFG.holdDown);
  assert.equal(later.action.kind === 'switch' && later.action.to, 'lte');
  // wan down: the hold-down does not keep traffic on it.
  const forced = again(state, T0 + 200_000, 'down');
  assert.equal(forced.action.kind === 'switch' && forced.action.to, 'lte');
  assert.match(forced.action.why, /hold-down after a failed confirm does not apply/);
});

test('the hourly cap blocks discretionary switches and says why, never leaving a down uplink', () => {
  let state = initialPolicyState('wan');
  for (let i = 0; i < CFG.maxSwitchesPerHour; i++) state = committed(state, i % 2 ? 'wan' : 'lte', 'failover', T0 + i * 60_000);
  state = committed(state, 'wan', 'manual', T0 + 400_000);
  const run = (wan: LinkHealth): ReturnType<typeof step> => {
    let r = step(state, UPLINKS, snap(T0 + 500_000, { wan: { health: wan, sinceMs: T0 + 200_000 }, lte: { health: 'healthy' } }), CFG, T0 + 500_000);
    for (let i = 1; i <= CFG.degradedSwitchAfter / 1000; i++)
      r = step(
        r.state,
        UPLINKS,
        snap(T0 + 500_000 + i * 1000, { wan: { health: wan, sinceMs: T0 + 200_000 }, lte: { health: 'healthy' } }),
        CFG,
        T0 + 500_000 + i * 1000,
      );
    return r;
  };
  const capped = run('degraded');
  assert.equal(capped.action.kind, 'none');
  assert.match(capped.action.why, /switch cap reached/);
  const forced = run('down');
  assert.equal(forced.action.kind === 'switch' && forced.action.to, 'lte');
});

test('manual override wins until it expires, then automatic selection resumes', () => {
  let state = withOverride(initialPolicyState('wan'), 'lte', T0 + 30_000);
  const links = { wan: { health: 'healthy' as const }, lte: { health: 'degraded' as const } };
  const r = step(state, UPLINKS, snap(T0, links), CFG, T0);
  assert.deepEqual(r.action.kind === 'switch' && [r.action.to, r.action.reason], ['lte', 'manual']);
  state = committed(r.state, 'lte', 'manual', T0);
  assert.equal(step(state, UPLINKS, snap(T0 + 10_000, links), CFG, T0 + 10_000).action.kind, 'none');
  // Expired: lte is degraded, wan healthy and preferred → failback to wan after the hold.
  let s2 = state;
  let last = step(s2, UPLINKS, snap(T0 + 31_000, links), CFG, T0 + 31_000);
  s2 = last.state;
  assert.equal(s2.override, null);
  for (let i = 1; i < 3; i++) {
    last = step(s2, UPLINKS, snap(T0 + 31_000 + i * 1000, links), CFG, T0 + 31_000 + i * 1000);
    s2 = last.state;
  }
  assert.notEqual(last.action.kind, 'switch');
});

test('an override never holds traffic on a down uplink while a healthy one exists', () => {
  let state = withOverride(initialPolicyState('wan'), 'lte', null);
  const links = (lte: LinkHealth) => ({ wan: { health: 'healthy' as const }, lte: { health: lte } });
  const r = step(state, UPLINKS, snap(T0, links('down')), CFG, T0);
  assert.equal(r.action.kind, 'none');
  assert.match(r.action.why, /override to lte not followed while it is down/);
  state = r.state;
  const up = step(state, UPLINKS, snap(T0 + 1000, links('healthy')), CFG, T0 + 1000);
  assert.deepEqual(up.action.kind === 'switch' && [up.action.to, up.action.reason], ['lte', 'manual']);
  state = committed(up.state, 'lte', 'manual', T0 + 1000);
  let back = step(state, UPLINKS, snap(T0 + 2000, links('down')), CFG, T0 + 2000);
  for (let i = 1; i < 3; i++) back = step(back.state, UPLINKS, snap(T0 + 2000 + i * 1000, links('down')), CFG, T0 + 2000 + i * 1000);
  assert.deepEqual(back.action.kind === 'switch' && [back.action.to, back.action.reason], ['wan', 'failover']);
});

test('decision texts name the real reason', () => {
  const three = (links: Record<string, LinkIn>, st = initialPolicyState('wan')) => {
    let r = step(st, UPLINKS, snap(T0, links), CFG, T0);
    for (let i = 1; i < 3; i++) r = step(r.state, UPLINKS, snap(T0 + i * 1000, links), CFG, T0 + i * 1000);
    return r;
  };
  const degradedCand = three({ wan: { health: 'down' }, lte: { health: 'degraded' } });
  assert.match(degradedCand.action.why, /lte degraded for 3 samples \(better than down\)/);
  assert.doesNotMatch(degradedCand.action.why, /healthy/);
  const young = step(initialPolicyState('wan'), UPLINKS, snap(T0, { wan: { health: 'down' }, lte: { health: 'healthy' } }), CFG, T0);
  assert.match(young.action.why, /lte healthy for only 1 of 3 samples/);
  const bothDown = three({ wan: { health: 'down' }, lte: { health: 'down' } });
  assert.match(bothDown.action.why, /no uplink to move to: lte is down/);
});

test('a degraded (not down) active uplink is left only after degradedSwitchAfter', () => {
  const { switches } = simulate(initialPolicyState('wan'), 200_000, 1000, (t) => ({
    wan: { health: t - T0 >= 10_000 ? 'degraded' : 'healthy', sinceMs: T0 + 10_000 },
    lte: { health: 'healthy' },
  }));
  assert.deepEqual(switches, [{ at: 10_000 + CFG.degradedSwitchAfter, to: 'lte', reason: 'failover' }]);
});

test('manual mode never switches on its own', () => {
  const { switches } = simulate(initialPolicyState('wan'), 600_000, 1000, () => ({ wan: { health: 'down' }, lte: { health: 'healthy' } }), {
    ...CFG,
    mode: 'manual',
  });
  assert.deepEqual(switches, []);
});

test('idle-down uplink is woken when the active degrades, used after warm-up, and put down after failback', () => {
  const uplinks: PolicyUplink[] = [UPLINKS[0]!, { name: 'lte', priority: 20, idleDown: true, warmupMs: 15_000 }];
  const cfg = { ...CFG, failbackHold: 60_000 };
  let state = initialPolicyState('wan');
  const events: string[] = [];
  let lastUp: boolean | undefined;
  for (let t = T0; t <= T0 + 300_000; t += 1000) {
    const s = t - T0;
    const wanDown = s >= 10_000 && s < 100_000;
    const wan: LinkIn = { health: wanDown ? 'down' : 'healthy', sinceMs: wanDown ? T0 + 10_000 : s >= 100_000 ? T0 + 100_000 : T0 };
    const lteUp = state.awake.lte !== undefined;
    const lte: LinkIn = { health: lteUp ? 'healthy' : 'down', sinceMs: state.awake.lte ?? T0 };
    const r = step(state, uplinks, snap(t, { wan, lte }), cfg, t);
    state = r.state;
    if (r.linkUp.lte !== lastUp) events.push(`${s / 1000}s lte ${r.linkUp.lte ? 'up' : 'down'}`);
    lastUp = r.linkUp.lte;
    if (r.action.kind === 'switch') {
      events.push(`${s / 1000}s switch ${r.action.to}`);
      state = committed(state, r.action.to, r.action.reason, t);
    }
  }
  assert.deepEqual(events, ['0s lte down', '10s lte up', '25s switch lte', '160s switch wan', '161s lte down']);
});

test('a forced move waits for a candidate that answered after the active uplink began failing (probe timeout known)', () => {
  const cfg: PolicyConfig = { ...CFG, probeTimeoutMs: 2_000 };
  /** wan: no quorum in the round that ended at `t`; lte healthy, its newest answer at `lteAnsweredAt`. */
  const views = (t: number, lteAnsweredAt: number): LinkSnapshot => ({
    atMs: t,
    node: 'down',
    active: 'wan',
    uplinks: {
      wan: {
        name: 'wan',
        health: 'down',
        sinceMs: T0,
        reasons: ['unreachable=0/3 targets<quorum'],
        latest: { atMs: t, reachable: false },
        measuredAtMs: { reachable: t },
      },
      lte: {
        name: 'lte',
        health: 'healthy',
        sinceMs: T0 - 600_000,
        reasons: [],
        latest: { atMs: t, reachable: true, rttMs: 40 },
        measuredAtMs: { reachable: lteAnsweredAt },
      },
    },
  });
  const run = (answeredAgoMs: number, c: PolicyConfig) => {
    let r = step(initialPolicyState('wan'), UPLINKS, views(T0, T0 - answeredAgoMs), c, T0);
    for (let i = 1; i < 3; i++) r = step(r.state, UPLINKS, views(T0 + i * 1000, T0 + i * 1000 - answeredAgoMs), c, T0 + i * 1000);
    return r.action;
  };
  // lte's last answer 15 s old (a settled 20-s interval): it has said nothing since wan's failing round began
  const stale = run(15_000, cfg);
  assert.equal(stale.kind, 'none');
  assert.match(stale.why, /lte has not answered since the failure began \(last answer 15s ago\): waiting for its next round/);
  // an answer inside wan's failing round (1.5 s ago, the round began 2 s before its sample) counts
  const fresh = run(1_500, cfg);
  assert.deepEqual(fresh.kind === 'switch' && [fresh.to, fresh.reason], ['lte', 'failover']);
  // without the probe timeout (older callers) the rule is off, as before
  const old = run(15_000, CFG);
  assert.deepEqual(old.kind === 'switch' && old.to, 'lte');
});
