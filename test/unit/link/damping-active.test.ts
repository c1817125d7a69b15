/** Damping counts trusted transitions of the active uplink only; the hold after the last flap is bounded (random wave period). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VOID_REASONS, type ProbeSample } from '../../../agent/core/types.ts';
import { addFlap, decay, initialDamping } from '../../../agent/core/damping.ts';
import { defaultLinkHealthConfig } from '../../../agent/config/link.ts';
import { evaluate, initialLinkState, setActive, step, type LinkState } from '../../../agent/core/link-state.ts';
import { T0, light, prng } from '../../support/link-samples.ts';

const policy = defaultLinkHealthConfig();
const DEAD: Partial<ProbeSample> = { reachable: false, targetsUp: 0, lossPercent: 100 };
const ROUND_MS = 5_000;

/** Samples for wan and lte every ROUND_MS from `from` to `to`, evaluating every second; `make` gives each sample. */
function run(s: LinkState, from: number, to: number, make: (uplink: string, t: number) => ProbeSample): LinkState {
  for (let t = from; t <= to; t += 1_000) {
    if ((t - from) % ROUND_MS === 0) for (const u of ['wan', 'lte']) s = step(s, make(u, t), t, policy).state;
    else s = evaluate(s, t, policy).state;
  }
  return s;
}

/** Square wave: dead for `halfMs`, alive for `halfMs`, from `start` to `end`. */
const square =
  (start: number, end: number, halfMs: number) =>
  (t: number): boolean =>
    t >= start && t < end && Math.floor((t - start) / halfMs) % 2 === 0;

test('an idle backup that flaps collects no penalty and is published by its current measurements', () => {
  let s = setActive(initialLinkState(['wan', 'lte'], T0), 'wan', T0, policy).state;
  const flapping = square(T0 + 60_000, T0 + 1_140_000, 90_000);
  s = run(s, T0, T0 + 1_260_000, (u, t) => light(u, t, u === 'lte' && flapping(t) ? DEAD : {}));
  assert.equal(s.uplinks.lte?.damping.penalty, 0, 'backup flaps while idle are not counted');
  assert.equal(s.uplinks.lte?.damping.suppressed, false);
  // 60 s (exit dwell) after its last flap it is healthy again: not held for tens of minutes.
  s = run(s, T0 + 1_261_000, T0 + 1_260_000 + 70_000, (u, t) => light(u, t));
  assert.equal(s.uplinks.lte?.health, 'healthy');
});

test('the same flapping on the active uplink is damped (the active uplink is the one that moves traffic)', () => {
  let s = setActive(initialLinkState(['wan', 'lte'], T0), 'wan', T0, policy).state;
  const flapping = square(T0 + 60_000, T0 + 1_140_000, 90_000);
  s = run(s, T0, T0 + 1_260_000, (u, t) => light(u, t, u === 'wan' && flapping(t) ? DEAD : {}));
  assert.equal(s.uplinks.wan?.damping.suppressed, true);
  assert.ok((s.uplinks.wan?.damping.penalty ?? 0) > policy.damping.suppressAbove);
});

test('void samples never count as flaps, even when they read the link as dead', () => {
  let s = setActive(initialLinkState(['wan'], T0), 'wan', T0, policy).state;
  const flapping = square(T0 + 60_000, T0 + 1_140_000, 90_000);
  for (let t = T0; t <= T0 + 1_260_000; t += ROUND_MS) {
    const voidSample = flapping(t);
    const reason = VOID_REASONS[Math.floor((t - T0) / ROUND_MS) % VOID_REASONS.length]!; // warmup, starved, clock_step, ...
    s = step(s, light('wan', t, voidSample ? { ...DEAD, void: reason } : {}), t, policy).state;
    assert.equal(s.uplinks.wan?.health, 'healthy', `t=${(t - T0) / 1000}s`);
  }
  assert.equal(s.uplinks.wan?.damping.penalty, 0);
});

test('the first verdict after start-up is not a flap (unknown → down publishes at once, adds no penalty)', () => {
  let s = setActive(initialLinkState(['wan'], T0), 'wan', T0, policy).state;
  s = step(s, light('wan', T0, DEAD), T0, policy).state;
  assert.equal(s.uplinks.wan?.health, 'down');
  assert.equal(s.uplinks.wan?.damping.penalty, 0);
});

test('square wave at a random period: hold after the last flap ≤ maxHoldS, healthy ≤ maxHoldS + exit dwell (≤ 8 min)', () => {
  const seed = Number(process.env.FLAP_SEED ?? Date.now() % 1_000_000);
  const rnd = prng(seed);
  for (let i = 0; i < 5; i++) {
    // Half-periods 5–200 s: everything the damping is meant to catch (flaps ≤ 400 s apart stay suppressed).
    const halfMs = 5_000 + Math.floor(rnd() * 195) * 1_000;
    const start = T0 + 60_000;
    const end = start + 3_600_000;
    process.stdout.write(`# seed ${seed}: square wave ${halfMs / 1000} s dead / ${halfMs / 1000} s alive for 1 h\n`);
    let s = setActive(initialLinkState(['wan'], T0), 'wan', T0, policy).state;
    const flapping = square(start, end, halfMs);
    let lastBad = -Infinity;
    let healthyAt: number | null = null;
    for (let t = T0; t <= end + 1_200_000; t += 1_000) {
      const sampling = (t - T0) % ROUND_MS === 0;
      if (sampling && flapping(t)) lastBad = t;
      s = (sampling ? step(s, light('wan', t, flapping(t) ? DEAD : {}), t, policy) : evaluate(s, t, policy)).state;
      if (t > end && healthyAt === null && s.uplinks.wan?.health === 'healthy') healthyAt = t;
    }
    assert.ok(healthyAt !== null, `seed ${seed} half ${halfMs}: never healthy again`);
    // The link is good for good from the first good sample after the last bad one.
    const afterS = (healthyAt - (lastBad + ROUND_MS)) / 1000;
    process.stdout.write(
      `#   healthy ${afterS} s after the flapping stopped (penalty ${Math.round(s.uplinks.wan!.damping.penalty)}, hold cap ${policy.damping.maxHoldS} s + exit dwell ${policy.dwell.exitS} s)\n`,
    );
    assert.ok(afterS <= policy.damping.maxHoldS + policy.dwell.exitS, `seed ${seed} half ${halfMs / 1000}s: healthy ${afterS}s after the flapping stopped`);
  }
});

test('a release by the hold cap lowers the penalty to reuse: one later flap does not suppress again, two close ones do', () => {
  const p = policy.damping;
  let d = initialDamping(T0);
  for (let i = 0; i < 8; i++) d = addFlap(d, T0 + i * 10_000, p);
  assert.equal(d.suppressed, true);
  const released = decay(d, T0 + 70_000 + p.maxHoldS * 1000, p);
  assert.equal(released.suppressed, false);
  assert.equal(released.penalty, p.reuseBelow);
  const one = addFlap(released, released.atMs + 1_000, p);
  assert.equal(one.suppressed, false);
  assert.equal(addFlap(one, one.atMs + 30_000, p).suppressed, true);
});
