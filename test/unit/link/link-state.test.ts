/** Table tests of the link-state machine: thresholds, hysteresis, dwell, hard down, staleness, node following the active uplink. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProbeSample } from '../../../agent/core/types.ts';
import { defaultLinkHealthConfig, LinkHealthConfigSchema } from '../../../agent/config/link.ts';
import { validateConfig } from '../../../agent/config/load.ts';
import { evaluate, initialLinkState, nextDeadlineMs, setActive, step, toSnapshot } from '../../../agent/core/link-state.ts';
import { T0, carrier, fresh, light, simulate, tput } from '../../support/link-samples.ts';

const policy = defaultLinkHealthConfig();

test('starts unknown and stays unknown without measurements, whatever time passes', () => {
  let s = initialLinkState(['wan'], T0);
  for (const dt of [0, 1_000, 60_000, 3_600_000]) {
    s = evaluate(s, T0 + dt, policy).state;
    assert.equal(s.uplinks.wan?.health, 'unknown');
    assert.equal(s.node, 'unknown');
  }
  const snap = toSnapshot(s, T0 + 10);
  assert.equal(snap.node, 'unknown');
  assert.equal(snap.active, 'wan');
  assert.deepEqual(snap.uplinks.wan?.reasons, ['no measurement yet']);
});

test('a sample that measured nothing (only bytes) does not count as a measurement', () => {
  const s = step(initialLinkState(['wan'], T0), { uplink: 'wan', kind: 'passive', atMs: T0, bytesUsed: 100 }, T0, policy).state;
  assert.equal(s.uplinks.wan?.health, 'unknown');
});

test('the first completed measurement is published at once', () => {
  const good = step(initialLinkState(['wan'], T0), light('wan', T0), T0, policy);
  assert.equal(good.state.uplinks.wan?.health, 'healthy');
  assert.equal(good.state.node, 'healthy');
  assert.deepEqual(
    good.transitions.map((t) => `${t.uplink ?? 'node'}:${t.from}->${t.to}`),
    ['wan:unknown->healthy', 'node:unknown->healthy'],
  );
  const bad = step(initialLinkState(['wan'], T0), light('wan', T0, { rttP95Ms: 400 }), T0, policy);
  assert.equal(bad.state.uplinks.wan?.health, 'degraded');
});

/** Threshold table: one sample as first measurement → expected health and reasons (defaults). */
const THRESHOLD_CASES: { name: string; sample: Partial<ProbeSample>; health: string; reasons: string[] }[] = [
  { name: 'all good', sample: {}, health: 'healthy', reasons: [] },
  { name: 'rtt just under enter', sample: { rttP95Ms: 250 }, health: 'healthy', reasons: [] },
  { name: 'rtt over enter', sample: { rttP95Ms: 412 }, health: 'degraded', reasons: ['rtt_p95=412ms>250'] },
  { name: 'rtt over down', sample: { rttP95Ms: 2500 }, health: 'down', reasons: ['rtt_p95=2500ms>2000'] },
  { name: 'loss 4 %', sample: { lossPercent: 4 }, health: 'degraded', reasons: ['loss=4%>3'] },
  { name: 'loss 30 %', sample: { lossPercent: 30 }, health: 'down', reasons: ['loss=30%>25'] },
  { name: 'jitter 800 ms', sample: { jitterMs: 800 }, health: 'degraded', reasons: ['jitter=800ms>50'] },
  { name: 'jitter 1200 ms', sample: { jitterMs: 1200 }, health: 'down', reasons: ['jitter=1200ms>1000'] },
  { name: 'download 3.1', sample: { downloadMbps: 3.1 }, health: 'degraded', reasons: ['down=3.1Mbps<5'] },
  { name: 'download 0.25', sample: { downloadMbps: 0.25 }, health: 'down', reasons: ['down=0.25Mbps<0.5'] },
  { name: 'upload 0.5', sample: { uploadMbps: 0.5 }, health: 'degraded', reasons: ['up=0.5Mbps<1'] },
  {
    name: 'issue example',
    sample: { downloadMbps: 3.1, rttP95Ms: 412, lossPercent: 4 },
    health: 'degraded',
    reasons: ['down=3.1Mbps<5', 'rtt_p95=412ms>250', 'loss=4%>3'],
  },
  {
    name: 'carrier lost (no probe verdict in the sample)',
    sample: { carrier: false, reachable: undefined, targetsUp: undefined, targetsTotal: undefined },
    health: 'down',
    reasons: ['carrier=lost'],
  },
  {
    name: 'carrier lost and targets unreachable',
    sample: { carrier: false, reachable: false, targetsUp: 0 },
    health: 'down',
    reasons: ['carrier=lost', 'unreachable=0/3 targets<quorum'],
  },
  {
    name: 'unreachable by quorum (probe verdict)',
    sample: { reachable: false, targetsUp: 1, targetsTotal: 3 },
    health: 'down',
    reasons: ['unreachable=1/3 targets<quorum'],
  },
  {
    name: 'quorum derived from targets: 1 of 3',
    sample: { reachable: undefined, targetsUp: 1, targetsTotal: 3 },
    health: 'down',
    reasons: ['unreachable=1/3 targets<quorum'],
  },
  { name: 'quorum derived from targets: 2 of 3', sample: { reachable: undefined, targetsUp: 2, targetsTotal: 3 }, health: 'healthy', reasons: [] },
  {
    name: 'quorum 2 of 4 is not a majority',
    sample: { reachable: undefined, targetsUp: 2, targetsTotal: 4 },
    health: 'down',
    reasons: ['unreachable=2/4 targets<quorum'],
  },
];

for (const c of THRESHOLD_CASES) {
  test(`threshold: ${c.name} → ${c.health}`, () => {
    // A combined sample; throughput values are only trusted from a throughput-kind sample.
    const kind = c.sample.downloadMbps !== undefined || c.sample.uploadMbps !== undefined ? 'throughput' : 'light';
    const r = step(initialLinkState(['wan'], T0), { ...light('wan', T0, c.sample), kind }, T0, policy);
    const u = r.state.uplinks.wan;
    assert.equal(u?.health, c.health);
    assert.deepEqual(u?.reasons, c.reasons);
  });
}

test('enter/exit hysteresis: between exit and enter the state does not change in either direction', () => {
  // Healthy, then 240 ms (below enter 250): stays healthy for ever.
  let run = simulate(fresh(['wan']), policy, T0, T0 + 60_000, 10_000, (t) => light('wan', t));
  run = simulate(run, policy, T0 + 61_000, T0 + 300_000, 10_000, (t) => light('wan', t, { rttP95Ms: 240 }));
  assert.equal(run.state.uplinks.wan?.health, 'healthy');
  // 300 ms: degraded; then 220 ms (above exit 200): stays degraded for ever.
  run = simulate(run, policy, T0 + 301_000, T0 + 400_000, 10_000, (t) => light('wan', t, { rttP95Ms: 300 }));
  assert.equal(run.state.uplinks.wan?.health, 'degraded');
  run = simulate(run, policy, T0 + 401_000, T0 + 700_000, 10_000, (t) => light('wan', t, { rttP95Ms: 220 }));
  assert.equal(run.state.uplinks.wan?.health, 'degraded');
  assert.deepEqual(run.state.uplinks.wan?.reasons, ['rtt_p95=220ms>200']);
  // 190 ms: below exit → healthy after the exit dwell.
  run = simulate(run, policy, T0 + 701_000, T0 + 800_000, 10_000, (t) => light('wan', t, { rttP95Ms: 190 }));
  assert.equal(run.state.uplinks.wan?.health, 'healthy');
  assert.deepEqual(
    run.transitions.filter((t) => t.uplink === 'wan').map((t) => t.to),
    ['healthy', 'degraded', 'healthy'],
  );
});

test('dwell: worse needs enterS, better needs exitS, and a contrary sample restarts the wait', () => {
  const warm = step(initialLinkState(['wan'], T0), light('wan', T0), T0, policy).state;
  const bad = step(warm, light('wan', T0 + 10_000, { lossPercent: 5 }), T0 + 10_000, policy).state;
  assert.equal(bad.uplinks.wan?.health, 'healthy');
  assert.equal(nextDeadlineMs(bad, T0 + 10_000, policy), T0 + 25_000, 'timer must fire exactly when the enter dwell ends');
  assert.equal(evaluate(bad, T0 + 24_999, policy).state.uplinks.wan?.health, 'healthy');
  const degraded = evaluate(bad, T0 + 25_000, policy).state;
  assert.equal(degraded.uplinks.wan?.health, 'degraded');
  // A good sample during the enter dwell cancels it.
  const reset = step(bad, light('wan', T0 + 20_000), T0 + 20_000, policy).state;
  assert.equal(evaluate(reset, T0 + 40_000, policy).state.uplinks.wan?.health, 'healthy');
  // Recovery: good sample at +30 s; still degraded at +89.999 s with a "recovering" reason; healthy at +90 s.
  const rec = step(degraded, light('wan', T0 + 30_000), T0 + 30_000, policy).state;
  const waiting = evaluate(rec, T0 + 89_999, policy).state.uplinks.wan;
  assert.equal(waiting?.health, 'degraded');
  assert.ok(
    waiting?.reasons.some((r) => r.startsWith('recovering: healthy for 60s<60') || r.startsWith('recovering: healthy for 59')),
    waiting?.reasons.join(','),
  );
  assert.equal(evaluate(rec, T0 + 90_000, policy).state.uplinks.wan?.health, 'healthy');
});

test('hard down (carrier lost, no quorum) skips the enter dwell; metric down waits for it', () => {
  const warm = step(initialLinkState(['wan'], T0), light('wan', T0), T0, policy).state;
  const lost = step(warm, carrier('wan', T0 + 5_000, false), T0 + 5_000, policy);
  assert.equal(lost.state.uplinks.wan?.health, 'down');
  assert.deepEqual(lost.state.uplinks.wan?.reasons, ['carrier=lost']);
  const quorum = step(warm, light('wan', T0 + 5_000, { reachable: false, targetsUp: 0, lossPercent: 100, rttP95Ms: undefined }), T0 + 5_000, policy);
  assert.equal(quorum.state.uplinks.wan?.health, 'down');
  assert.equal(quorum.state.node, 'down');
  const lossy = step(warm, light('wan', T0 + 5_000, { lossPercent: 40 }), T0 + 5_000, policy).state;
  assert.equal(lossy.uplinks.wan?.health, 'healthy');
  assert.equal(evaluate(lossy, T0 + 20_000, policy).state.uplinks.wan?.health, 'down');
});

test('stale measurements: light values older than maxAge.lightS make the uplink unknown; a low throughput figure expires after lowThroughputS', () => {
  let s = step(initialLinkState(['wan'], T0), light('wan', T0), T0, policy).state;
  s = step(s, tput('wan', T0, 3, 1.2), T0, policy).state; // both below their degraded exit values: both expire after lowThroughputS
  assert.equal(s.uplinks.wan?.health, 'healthy', 'enter dwell not over yet');
  s = evaluate(s, T0 + 15_000, policy).state;
  assert.equal(s.uplinks.wan?.health, 'degraded');
  assert.deepEqual(toSnapshot(s, T0 + 15_000).uplinks.wan?.heldBy, ['downloadMbps'], 'what a re-test could clear');
  // Light probes keep coming and are good; the 3 Mbit/s holds the link only until it is lowThroughputS (600 s) old.
  const lowS = policy.maxAge.lowThroughputS;
  const run = simulate({ state: s, transitions: [] }, policy, T0 + 20_000, T0 + lowS * 1000 + 80_000, 10_000, (t) => light('wan', t), 10_000);
  assert.equal(run.state.uplinks.wan?.health, 'healthy', 'a low throughput figure older than lowThroughputS is ignored');
  const tr = run.transitions.find((t) => t.uplink === 'wan');
  assert.ok(tr && tr.atMs > T0 + lowS * 1000 && tr.atMs <= T0 + lowS * 1000 + 80_000, `recovered at ${tr?.atMs}`);
  // a healthy-level figure lives maxAge.throughputS (3 h)
  const good = step(run.state, tput('wan', T0 + lowS * 1000 + 80_000, 40, 10), T0 + lowS * 1000 + 80_000, policy).state;
  assert.equal(good.uplinks.wan?.metrics.values.downloadMbps, 40);
  // No sample for longer than 120 s → unknown, with the reason.
  const lastSample = T0 + lowS * 1000 + 80_000;
  assert.equal(evaluate(run.state, lastSample + 120_000, policy).state.uplinks.wan?.health, 'healthy');
  const stale = evaluate(run.state, lastSample + 120_001, policy).state;
  assert.equal(stale.uplinks.wan?.health, 'unknown');
  assert.equal(stale.node, 'unknown');
  assert.match(stale.uplinks.wan?.reasons[0] ?? '', /^stale: last measurement 120s ago>120$/);
});

test('passive rates are a lower bound: they raise a low throughput measurement, never lower or create one', () => {
  let s = step(initialLinkState(['wan'], T0), light('wan', T0), T0, policy).state;
  s = step(s, tput('wan', T0, 3, 4), T0, policy).state;
  s = evaluate(s, T0 + 15_000, policy).state;
  assert.equal(s.uplinks.wan?.health, 'degraded');
  const passive = (atMs: number, down: number) => ({ uplink: 'wan', kind: 'passive' as const, atMs, downloadMbps: down, uploadMbps: 0.1, bytesUsed: 0 });
  s = step(s, light('wan', T0 + 20_000), T0 + 20_000, policy).state;
  s = step(s, passive(T0 + 20_000, 1), T0 + 20_000, policy).state;
  assert.equal(s.uplinks.wan?.metrics.values.downloadMbps, 3, 'a lower observed rate proves nothing');
  s = step(s, passive(T0 + 21_000, 8.5), T0 + 21_000, policy).state;
  assert.equal(s.uplinks.wan?.metrics.values.downloadMbps, 8.5);
  assert.equal(s.uplinks.wan?.metrics.values.uploadMbps, 4, 'upload 0.1 observed does not lower 4 measured');
  s = step(s, light('wan', T0 + 81_000), T0 + 81_000, policy).state;
  assert.equal(s.uplinks.wan?.health, 'healthy');
});

test('passive samples: byte-counter rates (use, not capacity) are ignored, carrier is taken', () => {
  let s = step(initialLinkState(['wan'], T0), light('wan', T0), T0, policy).state;
  s = step(
    s,
    { uplink: 'wan', kind: 'passive', atMs: T0 + 1_000, downloadMbps: 0.01, uploadMbps: 0.002, carrier: true, bytesUsed: 0 },
    T0 + 1_000,
    policy,
  ).state;
  s = evaluate(s, T0 + 60_000, policy).state;
  assert.equal(s.uplinks.wan?.health, 'healthy');
  assert.equal(s.uplinks.wan?.metrics.values.downloadMbps, undefined);
  // Light samples cannot set throughput either.
  s = step(s, light('wan', T0 + 61_000, { downloadMbps: 0.1 }), T0 + 61_000, policy).state;
  assert.equal(s.uplinks.wan?.metrics.values.downloadMbps, undefined);
  s = step(s, { uplink: 'wan', kind: 'passive', atMs: T0 + 62_000, carrier: false, bytesUsed: 0 }, T0 + 62_000, policy).state;
  assert.equal(s.uplinks.wan?.health, 'down');
});

test('a quorum of answers in the same round overrides a cached carrier=false', () => {
  let s = step(initialLinkState(['wan'], T0), light('wan', T0, { carrier: false, reachable: false, targetsUp: 0 }), T0, policy).state;
  assert.equal(s.uplinks.wan?.health, 'down');
  s = step(s, light('wan', T0 + 1_000, { carrier: false }), T0 + 1_000, policy).state;
  assert.equal(s.uplinks.wan?.metrics.values.carrier, true, 'answers through the link prove its carrier');
  s = evaluate(s, T0 + 61_000, policy).state;
  assert.equal(s.uplinks.wan?.health, 'healthy');
});

test('a late sample never overwrites a newer value', () => {
  let s = step(initialLinkState(['wan'], T0), light('wan', T0 + 10_000), T0 + 10_000, policy).state;
  s = step(s, light('wan', T0, { rttP95Ms: 900 }), T0 + 11_000, policy).state;
  assert.equal(s.uplinks.wan?.metrics.values.rttP95Ms, 40);
  assert.equal(evaluate(s, T0 + 60_000, policy).state.uplinks.wan?.health, 'healthy');
});

test('node follows the announced active uplink, else the first configured one', () => {
  let s = initialLinkState(['wan', 'lte'], T0);
  s = step(s, light('wan', T0), T0, policy).state;
  s = step(s, carrier('lte', T0, false), T0, policy).state;
  assert.equal(s.node, 'healthy');
  let r = setActive(s, 'lte', T0 + 1, policy);
  assert.equal(r.state.node, 'down');
  assert.deepEqual(
    r.transitions.map((t) => [t.uplink, t.to]),
    [[null, 'down']],
  );
  assert.equal(toSnapshot(r.state, T0 + 1).active, 'lte');
  r = setActive(r.state, 'nonexistent', T0 + 2, policy);
  assert.equal(r.state.node, 'healthy');
  assert.equal(toSnapshot(r.state, T0 + 2).active, 'wan');
  r = setActive(r.state, null, T0 + 3, policy);
  assert.equal(r.state.node, 'healthy');
});

test('schema: exit must be stricter than enter, reported with its path', () => {
  const r = LinkHealthConfigSchema.safeParse({ thresholds: { downloadMbps: { degraded: { enter: 5, exit: 4 } } } });
  assert.equal(r.success, false);
  const issue = r.error?.issues[0];
  assert.deepEqual(issue?.path, ['thresholds', 'downloadMbps', 'degraded', 'exit']);
  assert.match(issue?.message ?? '', /exit \(4\) must be stricter than enter \(5\)/);
  assert.equal(LinkHealthConfigSchema.safeParse({ dwell: { enterS: 5 }, thresholds: { jitterMs: { down: { enter: 300, exit: 200 } } } }).success, true);
  // Mounted as probes.health: every problem is reported at once with its full path.
  const v = validateConfig({ probes: { health: { thresholds: { rttP95Ms: { degraded: { enter: 250, exit: 300 } } }, damping: { reuseBelow: 5000 } } } });
  assert.equal(v.ok, false);
  assert.deepEqual(v.ok ? [] : v.problems.map((p) => p.path), ['probes.health.thresholds.rttP95Ms.degraded.exit', 'probes.health.damping.reuseBelow']);
});
