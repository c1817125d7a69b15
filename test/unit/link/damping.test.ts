/** Flap damping tests: the 30 s square wave for an hour, single outages never damped, restart keeps the penalty, random replays. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LinkHealth, ProbeSample } from '../../../agent/core/types.ts';
import { defaultLinkHealthConfig, LinkHealthConfigSchema } from '../../../agent/config/link.ts';
import { addFlap, decay, decayedPenalty, initialDamping, releaseAtMs } from '../../../agent/core/damping.ts';
import { evaluate, initialLinkState, setActive, step, type LinkState } from '../../../agent/core/link-state.ts';
import { T0, fresh, light, prng, simulate } from '../../support/link-samples.ts';

const policy = defaultLinkHealthConfig();
const HOUR = 3_600_000;

/** Square wave: `bad` for `halfMs`, good for `halfMs`, starting bad at `startMs` and ending at `endMs`. */
function wave(startMs: number, endMs: number, halfMs: number, bad: Partial<ProbeSample>): (t: number) => ProbeSample {
  return (t) => {
    const flapping = t >= startMs && t < endMs && Math.floor((t - startMs) / halfMs) % 2 === 0;
    return light('wan', t, flapping ? bad : {});
  };
}

function nodeTransitions(run: { transitions: { uplink: string | null; from: LinkHealth; to: LinkHealth; atMs: number }[] }, fromMs: number): string[] {
  return run.transitions.filter((t) => t.uplink === null && t.atMs >= fromMs).map((t) => `${(t.atMs - fromMs) / 1000}s:${t.from}->${t.to}`);
}

for (const [name, bad] of [
  ['degraded (RTT 400 ms, loss 5 %)', { rttP95Ms: 400, lossPercent: 5 }],
  ['down (targets unreachable)', { reachable: false, targetsUp: 0, lossPercent: 100 }],
] as const) {
  test(`square wave flipping every 30 s for 1 h, ${name}: at most 2 node transitions, then recovers`, () => {
    const start = T0 + 300_000;
    const end = start + HOUR;
    const make = wave(start, end, 30_000, bad);
    const run = simulate(fresh(['wan']), policy, T0, end + 2 * HOUR, 5_000, make);
    const tr = nodeTransitions(run, start);
    assert.ok(tr.length <= 2, `node transitions: ${tr.join(', ')}`);
    assert.ok(tr.length >= 1, 'the flapping link must not stay healthy');
    assert.equal(run.state.node, 'healthy', 'recovers once the flapping stops and the penalty decays');
    // The recovery happens after the flapping ended, bounded by the hold cap (maxHoldS) plus the exit dwell.
    const last = run.transitions.filter((t) => t.uplink === null).at(-1);
    assert.ok(last && last.atMs > end && last.atMs <= end + policy.damping.maxHoldS * 1000 + policy.dwell.exitS * 1000 + 1_000, tr.join(', '));
  });
}

test('damping reduces transitions under slow flapping (2 min good / 2 min bad) compared with dwell alone', () => {
  const undamped = LinkHealthConfigSchema.parse({ damping: { enabled: false } });
  const start = T0 + 60_000;
  const make = wave(start, start + HOUR, 120_000, { rttP95Ms: 500 });
  const withDamping = nodeTransitions(simulate(fresh(['wan']), policy, T0, start + HOUR, 10_000, make), start);
  const without = nodeTransitions(simulate(fresh(['wan']), undamped, T0, start + HOUR, 10_000, make), start);
  assert.ok(without.length >= 25, `without damping: ${without.length}`);
  assert.ok(withDamping.length <= 5, `with damping: ${withDamping.join(', ')}`);
});

test('one outage and its recovery are never damped (recovery after exactly the exit dwell)', () => {
  const start = T0 + 60_000;
  const outageEnd = start + 600_000;
  // Healthy → degraded → down → healthy: a deepening outage is one flap.
  const make = (t: number): ProbeSample => {
    if (t < start || t >= outageEnd) return light('wan', t);
    return t < start + 120_000 ? light('wan', t, { lossPercent: 8 }) : light('wan', t, { reachable: false, targetsUp: 0 });
  };
  const run = simulate(fresh(['wan']), policy, T0, outageEnd + 300_000, 5_000, make);
  assert.deepEqual(nodeTransitions(run, start), ['15s:healthy->degraded', '120s:degraded->down', `${600 + 60}s:down->healthy`]);
  assert.equal(run.state.uplinks.wan?.damping.suppressed, false);
  assert.equal(Math.round(run.state.uplinks.wan?.damping.penalty ?? 0), Math.round(1000 * Math.pow(2, -(outageEnd + 300_000 - start) / 600_000)));
});

test('two separate incidents minutes apart are not damped (outage, then high latency)', () => {
  const start = T0 + 60_000;
  const make = (t: number): ProbeSample => {
    if (t >= start && t < start + 60_000) return light('wan', t, { reachable: false, targetsUp: 0, lossPercent: 100 });
    if (t >= start + 240_000 && t < start + 360_000) return light('wan', t, { rttP95Ms: 400 });
    return light('wan', t);
  };
  const run = simulate(fresh(['wan']), policy, T0, start + 600_000, 5_000, make);
  assert.deepEqual(nodeTransitions(run, start), ['0s:healthy->down', '120s:down->healthy', '255s:healthy->degraded', '420s:degraded->healthy']);
});

test('penalty math: decays by half per half-life, capped, released below reuse', () => {
  const p = policy.damping;
  let d = initialDamping(T0);
  for (let i = 0; i < 10; i++) d = addFlap(d, T0, p);
  assert.equal(d.penalty, p.maxPenalty);
  assert.equal(d.suppressed, true);
  assert.equal(Math.round(decayedPenalty(d, T0 + p.halfLifeS * 1000, p)), p.maxPenalty / 2);
  // At the cap the hold ends maxHoldS after the last flap, not after log2(max/reuse) half-lives.
  const release = releaseAtMs(d, p);
  assert.equal(release, T0 + p.maxHoldS * 1000);
  assert.equal(decay(d, release, p).penalty, p.reuseBelow);
  assert.equal(decay(d, release - 1_000, p).suppressed, true);
  assert.equal(decay(d, release, p).suppressed, false);
  // A disabled policy never accumulates.
  const off = { ...p, enabled: false };
  assert.equal(addFlap(initialDamping(T0), T0, off).penalty, 0);
});

test('restart: state is unknown again but a suppressed penalty keeps the uplink at best degraded', () => {
  const damping = { wan: { penalty: 5000, atMs: T0, suppressed: true } };
  let s = initialLinkState(['wan'], T0 + 1_000, damping);
  assert.equal(s.uplinks.wan?.health, 'unknown');
  s = step(s, light('wan', T0 + 1_000), T0 + 1_000, policy).state;
  assert.equal(s.uplinks.wan?.health, 'degraded');
  assert.match(s.uplinks.wan?.reasons.join(' ') ?? '', /^damped: flapping, penalty=\d+>750$/);
  const release = releaseAtMs(s.uplinks.wan!.damping, policy.damping)!;
  const run = simulate({ state: s, transitions: [] }, policy, T0 + 10_000, release + 120_000, 10_000, (t) => light('wan', t), 10_000);
  assert.equal(run.state.uplinks.wan?.health, 'healthy');
});

test('restart after a clock that was a day ahead: the saved hold ends within maxHoldS + exit dwell, not a day later', () => {
  const DAY = 24 * HOUR;
  // saved while the wall clock read a day ahead: penalty at the maximum, last flap "a day from now"
  const damping = { wan: { penalty: policy.damping.maxPenalty, atMs: T0 + DAY, suppressed: true, lastFlapMs: T0 + DAY } };
  const s = initialLinkState(['wan'], T0, damping);
  assert.ok(s.uplinks.wan!.damping.atMs <= T0 && (s.uplinks.wan!.damping.lastFlapMs ?? 0) <= T0, 'restored times are not in the future');
  const bound = T0 + policy.damping.maxHoldS * 1000 + policy.dwell.exitS * 1000 + 10_000;
  const run = simulate({ state: s, transitions: [] }, policy, T0, bound, 10_000, (t) => light('wan', t), 10_000);
  assert.equal(run.state.uplinks.wan?.health, 'healthy', nodeTransitions(run, T0).join(', '));
});

test('the wall clock stepped back a day while running (NTP correcting it): the hold ends within maxHoldS of the step', () => {
  const DAY = 24 * HOUR;
  // flap the active uplink until suppressed, with the clock a day ahead
  const ahead = T0 + DAY;
  const make = wave(ahead, ahead + 14 * 60_000, 120_000, { lossPercent: 10 });
  let run = simulate(fresh(['wan']), policy, ahead - 60_000, ahead + 14 * 60_000, 5_000, make);
  assert.equal(run.state.uplinks.wan?.damping.suppressed, true, 'the flapping suppressed the uplink');
  // NTP steps the clock back a day; healthy samples from then on
  run = simulate(run, policy, T0 + 14 * 60_000, T0 + 14 * 60_000 + policy.damping.maxHoldS * 1000 + policy.dwell.exitS * 1000 + 10_000, 5_000, (t) =>
    light('wan', t),
  );
  assert.equal(run.state.uplinks.wan?.health, 'healthy');
  assert.equal(run.state.uplinks.wan?.damping.suppressed, false);
});

test('random replay (samples out of order, timer ticks, active switches) never shows healthy without a fresh measurement', () => {
  const seed = Number(process.env.LINK_SEED ?? 4242);
  const rnd = prng(seed);
  const names = ['wan', 'lte', 'sat'];
  for (let round = 0; round < 200; round++) {
    let s: LinkState = initialLinkState(names, T0);
    const measured = new Map<string, number>();
    let now = T0;
    for (let i = 0; i < 60; i++) {
      now += Math.floor(rnd() * 20_000);
      const op = rnd();
      const uplink = names[Math.floor(rnd() * names.length)] ?? 'wan';
      if (op < 0.45) {
        // Random sample, possibly late (atMs before now), possibly measuring nothing.
        const atMs = now - Math.floor(rnd() * 200_000);
        const empty = rnd() < 0.3;
        const sample: ProbeSample = empty
          ? { uplink, kind: 'passive', atMs, bytesUsed: 10 }
          : light(uplink, atMs, { rttP95Ms: rnd() * 600, lossPercent: rnd() * 10 });
        s = step(s, sample, now, policy).state;
        if (!empty) measured.set(uplink, Math.max(measured.get(uplink) ?? -Infinity, atMs));
      } else if (op < 0.6) {
        s = setActive(s, rnd() < 0.2 ? null : uplink, now, policy).state;
      } else {
        s = evaluate(s, now, policy).state;
      }
      for (const n of names) {
        if (s.uplinks[n]?.health !== 'healthy') continue;
        const last = measured.get(n);
        assert.ok(
          last !== undefined && now - last <= policy.maxAge.lightS * 1000,
          `seed ${seed} round ${round} op ${i}: ${n} healthy without a fresh measurement`,
        );
      }
    }
  }
});
