/** Samples the agent cannot vouch for (void, lower bounds) never worsen a verdict; per-metric hysteresis; reasons say what was compared. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultLinkHealthConfig } from '../../../agent/config/link.ts';
import { evaluate, initialLinkState, step, toSnapshot, type LinkState } from '../../../agent/core/link-state.ts';
import { fmtPair } from '../../../agent/core/fmt.ts';
import { T0, light, tput } from '../../support/link-samples.ts';

const policy = defaultLinkHealthConfig();

function healthyAt(t: number): LinkState {
  let s = step(initialLinkState(['wan'], T0), light('wan', T0), T0, policy).state;
  s = step(s, tput('wan', T0, 50, 10), T0, policy).state;
  return evaluate(s, t, policy).state;
}

test('a void light round (agent starved) cannot worsen a healthy uplink, however bad its figures', () => {
  let s = healthyAt(T0 + 1_000);
  assert.equal(s.uplinks.wan?.health, 'healthy');
  for (let t = T0 + 2_000; t < T0 + 120_000; t += 2_000) {
    s = step(s, light('wan', t, { void: 'starved', lossPercent: 60, lossSamples: 20, rttP95Ms: 3_000, reachable: false, targetsUp: 0 }), t, policy).state;
    s = step(s, light('wan', t + 1_000), t + 1_000, policy).state; // good rounds keep it fresh
  }
  assert.equal(s.uplinks.wan?.health, 'healthy');
  assert.equal(s.uplinks.wan?.metrics.values.lossPercent, 0);
});

test('a void sample may still improve the verdict, and the carrier (a kernel fact) is always taken', () => {
  let s = healthyAt(T0 + 1_000);
  s = step(s, light('wan', T0 + 2_000, { lossPercent: 50, lossSamples: 20 }), T0 + 2_000, policy).state;
  s = evaluate(s, T0 + 20_000, policy).state;
  assert.equal(s.uplinks.wan?.health, 'down');
  s = step(s, light('wan', T0 + 21_000, { void: 'starved' }), T0 + 21_000, policy).state;
  assert.equal(s.uplinks.wan?.metrics.values.lossPercent, 0, 'good news from a disturbed round is taken');
  const cut = step(
    healthyAt(T0 + 1_000),
    { uplink: 'wan', kind: 'passive', atMs: T0 + 2_000, carrier: false, void: 'starved', bytesUsed: 0 },
    T0 + 2_000,
    policy,
  ).state;
  assert.equal(cut.uplinks.wan?.health, 'down', 'carrier lost is not a timing: hard down at once');
});

test('from unknown, a void round with bad figures stays unknown; with good figures it gives the first verdict', () => {
  const bad = step(
    initialLinkState(['wan'], T0),
    light('wan', T0, { void: 'warmup', reachable: false, targetsUp: 0, lossPercent: 100, lossSamples: 6 }),
    T0,
    policy,
  ).state;
  assert.equal(bad.uplinks.wan?.health, 'unknown');
  const good = step(initialLinkState(['wan'], T0), light('wan', T0, { void: 'warmup' }), T0, policy).state;
  assert.equal(good.uplinks.wan?.health, 'healthy');
});

test('a throughput lower bound above the exit value is healthy; below the enter value it cannot degrade the link', () => {
  let s = healthyAt(T0 + 1_000);
  s = step(s, { ...tput('wan', T0 + 2_000, 0.3, 10), downloadLowerBound: true }, T0 + 2_000, policy).state;
  s = evaluate(s, T0 + 60_000, policy).state;
  assert.equal(s.uplinks.wan?.health, 'healthy');
  assert.equal(s.uplinks.wan?.metrics.values.downloadMbps, 50, 'a low lower bound proves nothing');
  s = step(s, { ...tput('wan', T0 + 61_000, 7, 10), downloadLowerBound: true }, T0 + 61_000, policy).state;
  assert.equal(s.uplinks.wan?.metrics.values.downloadMbps, 7, 'a lower bound above the exit value is a healthy figure');
  assert.equal(s.uplinks.wan?.metrics.values.downloadLowerBound, true);
  s = step(s, tput('wan', T0 + 62_000, 60, 10), T0 + 62_000, policy).state;
  assert.equal(s.uplinks.wan?.metrics.values.downloadLowerBound, false, 'an exact figure clears the flag');
});

for (const [what, loss, bound] of [
  ['degraded by loss, a download bound of 3 Mbit/s', 10, { downloadMbps: 3, downloadLowerBound: true }],
  ['down by loss, an upload bound of 0 (nothing delivered)', 40, { uploadMbps: 0, uploadLowerBound: true }],
] as const)
  test(`${what} while it was bad proves nothing: once the loss clears the uplink is healthy, not held by the bound`, () => {
    let s = healthyAt(T0 + 1_000);
    for (let t = T0 + 2_000; t <= T0 + 40_000; t += 2_000) s = step(s, light('wan', t, { lossPercent: loss, lossSamples: 60 }), t, policy).state;
    assert.notEqual(s.uplinks.wan?.health, 'healthy');
    s = step(s, { uplink: 'wan', kind: 'throughput', atMs: T0 + 41_000, bytesUsed: 1, ...bound }, T0 + 41_000, policy).state;
    for (let t = T0 + 42_000; t <= T0 + 160_000; t += 2_000) s = step(s, light('wan', t), t, policy).state;
    s = evaluate(s, T0 + 161_000, policy).state;
    assert.equal(s.uplinks.wan?.health, 'healthy', `held by ${s.uplinks.wan?.held?.join(', ')}`);
    const f = 'downloadMbps' in bound ? 'downloadMbps' : 'uploadMbps';
    assert.equal(s.uplinks.wan?.metrics.values[f], f === 'downloadMbps' ? 50 : 10, 'the stored figure is the last vouched one');
  });

test('a slow link held by its download figure: a capped re-measurement ("at least", lower) keeps it held past the first figure’s age', () => {
  let s = healthyAt(T0 + 1_000);
  s = step(s, tput('wan', T0 + 2_000, 3, 10), T0 + 2_000, policy).state;
  for (let t = T0 + 4_000; t <= T0 + 450_000; t += 2_000) s = step(s, light('wan', t), t, policy).state;
  assert.equal(s.uplinks.wan?.health, 'degraded');
  s = step(s, { ...tput('wan', T0 + 452_000, 2.7, 10), downloadLowerBound: true }, T0 + 452_000, policy).state;
  for (let t = T0 + 454_000; t <= T0 + 720_000; t += 2_000) s = step(s, light('wan', t), t, policy).state;
  s = evaluate(s, T0 + 722_000, policy).state;
  assert.equal(s.uplinks.wan?.health, 'degraded', 'the re-measurement refreshed the hold: no flap to healthy without a measurement');
});

test('per-metric hysteresis: a link degraded by download is not held by one lost packet in 20 (5 % > the 1 % loss exit)', () => {
  let s = healthyAt(T0 + 1_000);
  s = step(s, tput('wan', T0 + 2_000, 3, 10), T0 + 2_000, policy).state;
  s = evaluate(s, T0 + 20_000, policy).state;
  assert.equal(s.uplinks.wan?.health, 'degraded');
  s = step(s, tput('wan', T0 + 21_000, 40, 10), T0 + 21_000, policy).state;
  for (let t = T0 + 22_000; t <= T0 + 100_000; t += 5_000) s = step(s, light('wan', t, { lossPercent: 5, lossSamples: 20 }), t, policy).state;
  assert.equal(s.uplinks.wan?.health, 'healthy');
});

test('while recovering, the reasons show the current figures, not the ones that caused the state', () => {
  let s = healthyAt(T0 + 1_000);
  s = step(s, tput('wan', T0 + 2_000, 3, 10), T0 + 2_000, policy).state;
  s = evaluate(s, T0 + 20_000, policy).state;
  assert.deepEqual(s.uplinks.wan?.reasons, ['down=3Mbps<5']);
  s = step(s, tput('wan', T0 + 21_000, 5.5, 10), T0 + 21_000, policy).state;
  assert.deepEqual(s.uplinks.wan?.reasons, ['down=5.5Mbps<6'], "still below the exit value: shown with today's figure");
  s = step(s, tput('wan', T0 + 22_000, 40, 10), T0 + 22_000, policy).state;
  assert.deepEqual(s.uplinks.wan?.reasons, ['recovering: healthy for 0s<60']);
  assert.equal(toSnapshot(s, T0 + 22_000).uplinks.wan?.heldBy?.length, 0);
});

test('fmtPair prints enough digits that the printed comparison is the one made', () => {
  assert.deepEqual(fmtPair(4.98, 5), ['4.98', '5']);
  assert.deepEqual(fmtPair(3.1, 5), ['3.1', '5']);
  assert.deepEqual(fmtPair(0.499, 0.5), ['0.499', '0.5']);
  assert.deepEqual(fmtPair(250.4, 250), ['250.4', '250']);
});
