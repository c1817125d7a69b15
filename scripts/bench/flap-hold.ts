// Flap-hold benchmark (simulated clock): square waves on the primary at random periods through link-state + route
// policy (defaults, two uplinks): switches while flapping, the most in any 10 min, the damping penalty reached, and how
// long after the flapping stops the primary is published healthy and carries traffic again. The first rows are the
// issue's 25 s / 25 s wave, with a backup and alone (where every flap counts and the penalty reaches its cap).
// Usage: node scripts/bench/flap-hold.ts [--seed N] [--runs N] [--json]   (periods are drawn at random and printed)
import type { LinkHealth, ProbeSample } from '../../agent/core/types.ts';
import { evaluate, initialLinkState, setActive, step as linkStep, toSnapshot } from '../../agent/core/link-state.ts';
import { defaultLinkHealthConfig } from '../../agent/config/link.ts';
import { defaultRoutePolicy } from '../../agent/config/route.ts';
import { committed, initialPolicyState, step, type PolicyUplink } from '../../agent/route/policy.ts';
import { prng } from '../../test/support/link-samples.ts';

const T0 = 1_700_000_000_000;
/** Light probe cadence of the defaults: one round per uplink every 5 s. */
const ROUND_MS = 5_000;
/** Flapping lasts 1 h (as in the issue's lab test), then the link stays good for 30 min to measure the hold. */
const FLAP_MS = 3_600_000;
const AFTER_MS = 1_800_000;
/** Half-periods drawn: 5–175 s is the flapping the damping and failback hold are meant to absorb; 180–600 s are separate outages. */
const FAST: [number, number] = [5, 175];
const SLOW: [number, number] = [180, 600];
const UPLINKS: PolicyUplink[] = [
  { name: 'wan', priority: 10, idleDown: false, warmupMs: 0 },
  { name: 'lte', priority: 20, idleDown: false, warmupMs: 0 },
];

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const seed = arg('--seed', Math.floor(Math.random() * 1_000_000));
const runs = arg('--runs', 8);
const jsonOnly = process.argv.includes('--json');

function light(uplink: string, atMs: number, bad: 'dead' | 'slow' | null): ProbeSample {
  const dead = bad === 'dead';
  return {
    uplink,
    kind: 'light',
    atMs,
    rttMs: 30,
    rttP95Ms: bad === 'slow' ? 400 : 40,
    jitterMs: 2,
    lossPercent: dead ? 100 : 0,
    lossSamples: 60,
    targetsUp: dead ? 0 : 3,
    targetsTotal: 3,
    reachable: !dead,
    bytesUsed: 500,
  };
}

interface Row {
  halfS: number;
  how: 'dead' | 'slow';
  uplinks: number;
  switches: number;
  max10min: number;
  peakPenalty: number;
  healthyAfterS: number | null;
  trafficBackAfterS: number | null;
}

/** `single`: wan alone (nowhere to fail over to; it stays active, so every flap counts: the penalty climbs to its cap). */
function run(halfMs: number, how: 'dead' | 'slow', single = false): Row {
  const uplinks = single ? UPLINKS.slice(0, 1) : UPLINKS;
  const health = defaultLinkHealthConfig();
  const cfg = { ...defaultRoutePolicy(), health };
  let ls = setActive(
    initialLinkState(
      uplinks.map((u) => u.name),
      T0,
    ),
    'wan',
    T0,
    health,
  ).state;
  let ps = committed(initialPolicyState('wan'), 'wan', 'initial', T0);
  const start = T0 + 300_000;
  const end = start + FLAP_MS;
  const switches: number[] = [];
  let lastBad = start;
  let peakPenalty = 0;
  let healthyAt: number | null = null;
  let backAt: number | null = null;
  let wasHealthy: LinkHealth = 'healthy';
  for (let t = T0; t < end + AFTER_MS; t += 1_000) {
    if ((t - T0) % ROUND_MS === 0) {
      const bad = t >= start && t < end && Math.floor((t - start) / halfMs) % 2 === 0;
      if (bad) lastBad = t;
      ls = linkStep(ls, light('wan', t, bad ? how : null), t, health).state;
      if (!single) ls = linkStep(ls, light('lte', t, null), t, health).state;
    }
    ls = evaluate(ls, t, health).state;
    const wan = ls.uplinks.wan!;
    peakPenalty = Math.max(peakPenalty, wan.damping.penalty);
    if (t >= end && healthyAt === null && wan.health === 'healthy' && wasHealthy !== 'healthy') healthyAt = t;
    if (t >= end && healthyAt === null && wan.health === 'healthy' && wasHealthy === 'healthy' && t === end) healthyAt = t;
    wasHealthy = wan.health;
    const r = step(ps, uplinks, toSnapshot(ls, t), cfg, t);
    ps = r.state;
    if (r.action.kind === 'switch') {
      if (t < end) switches.push(t);
      ps = committed(ps, r.action.to, r.action.reason, t);
      ls = setActive(ls, r.action.to, t, health).state;
      if (t >= end && r.action.to === 'wan' && backAt === null) backAt = t;
    }
  }
  const goodFrom = lastBad + ROUND_MS;
  const max10min = Math.max(0, ...switches.map((s) => switches.filter((x) => x >= s && x < s + 600_000).length));
  const leftWan = ps.active === 'wan' && backAt === null ? null : backAt;
  return {
    halfS: halfMs / 1000,
    how,
    uplinks: uplinks.length,
    switches: switches.length,
    max10min,
    peakPenalty: Math.round(peakPenalty),
    healthyAfterS: healthyAt === null ? null : Math.max(0, (healthyAt - goodFrom) / 1000),
    trafficBackAfterS: leftWan === null ? null : (leftWan - goodFrom) / 1000,
  };
}

const rnd = prng(seed);
const draw = ([lo, hi]: [number, number]): number => (lo + Math.floor(rnd() * (hi - lo + 1))) * 1000;
const rows: Row[] = [run(25_000, 'dead'), run(25_000, 'dead', true), run(90_000, 'slow', true), run(90_000, 'dead', true)];
for (let i = 0; i < runs; i++) rows.push(run(draw(FAST), i % 2 === 0 ? 'dead' : 'slow'));
for (let i = 0; i < Math.max(2, runs / 2); i++) rows.push(run(draw(SLOW), 'dead'));
const d = defaultLinkHealthConfig().damping;
const meta = {
  bench: 'flap-hold',
  seed,
  maxHoldS: d.maxHoldS,
  halfLifeS: d.halfLifeS,
  maxPenalty: d.maxPenalty,
  exitDwellS: defaultLinkHealthConfig().dwell.exitS,
  failbackHoldS: defaultRoutePolicy().failbackHold / 1000,
};
process.stdout.write(JSON.stringify(meta) + '\n');
for (const r of rows) process.stdout.write(JSON.stringify(r) + '\n');
if (!jsonOnly) {
  process.stdout.write(
    `\nseed ${seed} (rerun: --seed ${seed}); damping hold cap ${meta.maxHoldS} s, half-life ${meta.halfLifeS} s, exit dwell ${meta.exitDwellS} s, failback hold ${meta.failbackHoldS} s\n`,
  );
  process.stdout.write('uplinks  half-period  bad    switches/1h  max/10min  peak penalty  wan healthy after stop  traffic back on wan after stop\n');
  const s = (x: number | null): string => (x === null ? '—' : `${x} s`);
  for (const r of rows)
    process.stdout.write(
      `${String(r.uplinks).padEnd(8)} ${`${r.halfS} s`.padEnd(12)} ${r.how.padEnd(6)} ${String(r.switches).padEnd(12)} ${String(r.max10min).padEnd(10)} ${String(r.peakPenalty).padEnd(13)} ${s(r.healthyAfterS).padEnd(23)} ${r.uplinks === 1 ? 'n/a (one uplink)' : r.switches === 0 ? 'never left' : s(r.trafficBackAfterS)}\n`,
    );
}
