/** The selection policy fed by the real link-state machine with its default thresholds: random loss, square waves at random periods, a flapping idle backup. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProbeSample } from '../../../agent/core/types.ts';
import { initialLinkState, setActive, step as linkStep, toSnapshot, evaluate } from '../../../agent/core/link-state.ts';
import { defaultLinkHealthConfig } from '../../../agent/config/link.ts';
import { defaultRoutePolicy } from '../../../agent/config/route.ts';
import { committed, initialPolicyState, step, type PolicyUplink } from '../../../agent/route/policy.ts';
import { prng } from '../../support/link-samples.ts';

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
      const sample: ProbeSample = {
        uplink: u,
        kind: 'light',
        atMs: t,
        rttMs: 30,
        jitterMs: 2,
        lossPercent: (100 * w.filter(Boolean).length) / w.length,
        targetsUp: round.every(Boolean) ? 0 : 1,
        targetsTotal: 1,
        reachable: !round.every(Boolean),
        bytesUsed: 500,
      };
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
    const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const { switches } = run(6 * 3_600_000, (u) => u === 'wan' && rand() < 0.01);
    assert.deepEqual(switches, [], `seed ${start}`);
  }
});

test('sustained 10 % loss on the active uplink does switch (the damping is not deafness)', () => {
  let seed = 5;
  const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const { switches } = run(3_600_000, (u) => u === 'wan' && rand() < 0.1);
  assert.equal(switches.length, 1, JSON.stringify(switches));
});

test('an uplink flapping every 5 s causes at most one switch per 10 minutes', () => {
  const { switches } = run(3_600_000, (u, t) => u === 'wan' && Math.floor((t - T0) / 5_000) % 2 === 1);
  for (let w = 0; w < 3_600_000; w += 600_000) assert.ok(switches.filter((s) => s >= w && s < w + 600_000).length <= 1, JSON.stringify(switches));
  assert.ok(switches.length >= 1, 'the flapping uplink was left at least once');
});

/** Link-state + policy on a simulated clock, one sample per uplink every ROUND_MS from `make`; returns switches (ms after T0) and the time traffic went back to wan after `backAfterMs`. */
function drive(
  durationMs: number,
  make: (uplink: string, t: number) => ProbeSample | null,
  backAfterMs = Infinity,
): { switches: { at: number; to: string; why: string }[]; backAt: number | null } {
  const health = defaultLinkHealthConfig();
  const cfg = { ...defaultRoutePolicy(), health };
  let ls = setActive(initialLinkState(['wan', 'lte'], T0), 'wan', T0, health).state;
  let ps = committed(initialPolicyState('wan'), 'wan', 'initial', T0);
  const switches: { at: number; to: string; why: string }[] = [];
  let backAt: number | null = null;
  for (let t = T0; t < T0 + durationMs; t += 1_000) {
    if ((t - T0) % ROUND_MS === 0)
      for (const u of ['wan', 'lte']) {
        const s = make(u, t);
        if (s) ls = linkStep(ls, s, t, health).state;
      }
    ls = evaluate(ls, t, health).state;
    const r = step(ps, UPLINKS, toSnapshot(ls, t), cfg, t);
    ps = r.state;
    if (r.action.kind === 'switch') {
      switches.push({ at: t - T0, to: r.action.to, why: r.action.why });
      ps = committed(ps, r.action.to, r.action.reason, t);
      ls = setActive(ls, r.action.to, t, health).state;
      if (t - T0 >= backAfterMs && r.action.to === 'wan' && backAt === null) backAt = t - T0;
    }
  }
  return { switches, backAt };
}

const sample = (u: string, t: number, bad: boolean, how: 'dead' | 'slow'): ProbeSample => ({
  uplink: u,
  kind: 'light',
  atMs: t,
  rttMs: 30,
  rttP95Ms: bad && how === 'slow' ? 400 : 40,
  jitterMs: 2,
  lossPercent: bad && how === 'dead' ? 100 : 0,
  lossSamples: 60,
  targetsUp: bad && how === 'dead' ? 0 : 3,
  targetsTotal: 3,
  reachable: !(bad && how === 'dead'),
  bytesUsed: 500,
});

/** Most switches in any 10-minute window (sliding). */
const per10min = (at: number[]): number => Math.max(0, ...at.map((s) => at.filter((x) => x >= s && x < s + 600_000).length));

test('square wave on the primary at a random period (5–175 s half-period): ≤ 1 switch per 10 min, back on it ≤ 10 min after flapping stops', () => {
  const seed = Number(process.env.FLAP_SEED ?? Math.floor(Math.random() * 1_000_000));
  const rnd = prng(seed);
  for (let i = 0; i < 4; i++) {
    const halfMs = (5 + Math.floor(rnd() * 171)) * 1_000;
    const how = rnd() < 0.5 ? 'dead' : 'slow';
    const start = 300_000;
    const end = start + 3_600_000;
    const { switches, backAt } = drive(
      end + 1_800_000,
      (u, t) => sample(u, t, u === 'wan' && t - T0 >= start && t - T0 < end && Math.floor((t - T0 - start) / halfMs) % 2 === 0, how),
      end,
    );
    const during = switches.filter((s) => s.at < end).map((s) => s.at);
    process.stdout.write(
      `# seed ${seed}: wan ${how} ${halfMs / 1000} s / good ${halfMs / 1000} s for 1 h: ${during.length} switches while flapping (max ${per10min(during)} per 10 min), back on wan ${backAt === null ? 'never' : `${(backAt - end) / 1000} s`} after it stopped\n`,
    );
    assert.ok(per10min(switches.map((s) => s.at)) <= 1, `seed ${seed} half ${halfMs / 1000}s ${how}: ${JSON.stringify(switches.map((s) => s.at / 1000))}`);
    if (switches.some((s) => s.to === 'lte'))
      assert.ok(backAt !== null && backAt - end <= 600_000, `seed ${seed} half ${halfMs / 1000}s ${how}: back at ${backAt}`);
  }
});

test('slower square waves (180–600 s half-period, each bad phase a real outage): every outage is left, the failback hold backs off (≤ 3 failbacks per hour)', () => {
  const seed = Number(process.env.FLAP_SEED ?? Math.floor(Math.random() * 1_000_000));
  const rnd = prng(seed + 1);
  for (let i = 0; i < 3; i++) {
    const halfMs = (180 + Math.floor(rnd() * 421)) * 1_000;
    const start = 300_000;
    const end = start + 3_600_000;
    const { switches } = drive(end, (u, t) => sample(u, t, u === 'wan' && t - T0 >= start && Math.floor((t - T0 - start) / halfMs) % 2 === 0, 'dead'));
    const at = switches.map((s) => s.at);
    process.stdout.write(
      `# seed ${seed}: wan dead ${halfMs / 1000} s / good ${halfMs / 1000} s: ${at.length} switches in 1 h (max ${per10min(at)} per 10 min): ${at.map((x) => (x - start) / 1000).join(', ')} s\n`,
    );
    const failbacks = switches.filter((s) => s.to === 'wan').length;
    assert.ok(failbacks <= 3, `seed ${seed} half ${halfMs / 1000}s: ${failbacks} failbacks`);
    // Each outage is left at once (hard down: no dwell), whatever the caps.
    for (const s of switches.filter((x) => x.to === 'lte')) assert.ok((s.at - start) % (2 * halfMs) < ROUND_MS, `seed ${seed}: failover at ${s.at}`);
  }
});

test('an idle backup that flapped is judged by its current measurements: a throttled primary is left for it', () => {
  // lte (idle) flaps every 30 s for 20 min (e.g. a modem re-registering), then measures 248 Mbit/s; at 25 min wan is
  // throttled to 1.8 Mbit/s (degraded: below 5). Before, lte was held degraded by its own damping for up to 30 min.
  const throttleAt = 1_500_000;
  const { switches } = drive(2_400_000, (u, t) => {
    const s = t - T0;
    if (u === 'lte') {
      if (s % 60_000 === 0 && s >= 1_200_000) return { uplink: 'lte', kind: 'throughput', atMs: t, downloadMbps: 248, uploadMbps: 40, bytesUsed: 1e6 };
      return sample('lte', t, s >= 60_000 && s < 1_200_000 && Math.floor(s / 30_000) % 2 === 0, 'dead');
    }
    if (s >= throttleAt && s % 60_000 === 0) return { uplink: 'wan', kind: 'throughput', atMs: t, downloadMbps: 1.8, uploadMbps: 1.2, bytesUsed: 1e6 };
    return sample('wan', t, false, 'dead');
  });
  const toLte = switches.find((x) => x.to === 'lte');
  process.stdout.write(`# throttled primary left ${toLte ? `${(toLte.at - throttleAt) / 1000} s` : 'never'} after the throttle: ${toLte?.why}\n`);
  assert.ok(toLte && toLte.at - throttleAt <= 15_000 + defaultRoutePolicy().degradedSwitchAfter + 60_000, JSON.stringify(switches));
});
