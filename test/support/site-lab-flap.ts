/** Edge-site lab step 6: square-wave flapping of gw1 at a seeded random period; transitions and switches must stay bounded. */
import type { SiteLab } from './site-lab.ts';
import { cut, shape, uncut } from './site-lab-net.ts';
import type { Observer } from './site-lab-observe.ts';
import type { Check } from './site-lab-scenario.ts';
import { BASE_MBIT } from './site-lab-scenario.ts';
import { switches } from './site-lab-telemetry.ts';
import { metricSum } from './trust-lab.ts';

/** Half-periods drawn from this range: all shorter than the 13 s of good link a failback needs (5 s exit dwell + 8 s failback hold). */
const HALF_PERIOD_MIN_MS = 2_000;
const HALF_PERIOD_MAX_MS = 8_000;
/** How long gw1 flaps. */
const FLAP_MS = 40_000;
/** Start-up bound before flapping begins. */
const READY_LIMIT_MS = 30_000;
/**
 * Bounds while flapping faster than a failback can happen: the first bad phase fails over (1 switch) and nothing fails
 * back while flapping (OPERATIONS.md "Switches under flapping": at most 1 switch per 10 min for such waves).
 */
const MAX_SWITCHES = 1;
/** Published gw1 transitions: damping suppresses after the third flap, so at most 3 bad + 3 good publications. */
const MAX_GW1_TRANSITIONS = 6;

/** mulberry32: a small seeded generator, so a run can be repeated from its printed seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FlapFigures {
  seed: number;
  halfPeriodMs: number;
  cycles: number;
  switches: number;
  gw1Transitions: number;
  nodeTransitions: number;
}

export async function runFlapping(lab: SiteLab, obs: Observer, checks: Check[], seed: number): Promise<FlapFigures> {
  const halfPeriodMs = Math.round(HALF_PERIOD_MIN_MS + seeded(seed)() * (HALF_PERIOD_MAX_MS - HALF_PERIOD_MIN_MS));
  obs.mark('step', `[flap] step 6: seed ${seed} → square wave on gw1, half-period ${halfPeriodMs} ms, for ${FLAP_MS / 1000} s`);
  shape('gw1', BASE_MBIT.gw1);
  shape('gw2', BASE_MBIT.gw2);
  await lab.startAgent();
  obs.start();
  const ready = await obs.waitFor(
    (s) => s.status?.link?.uplinks.gw1?.health === 'healthy' && s.status?.link?.uplinks.gw2?.health === 'healthy' && s.via === 'gw1',
    READY_LIMIT_MS,
  );
  checks.push({ step: 'flap 6', name: 'both uplinks healthy before flapping', ok: ready !== null, detail: JSON.stringify(obs.latest.status?.link) });
  const before = await lab.metrics();
  const tr0 = metricSum(before, 'linkward_link_transitions_total', (l) => l.uplink === 'gw1');
  const nt0 = metricSum(before, 'linkward_link_node_transitions_total');
  const end = Date.now() + FLAP_MS;
  let cycles = 0;
  while (Date.now() < end) {
    cut('gw1');
    obs.mark('impairment', 'gw1 cut (flap)');
    await new Promise((r) => setTimeout(r, halfPeriodMs));
    uncut('gw1');
    obs.mark('impairment', 'gw1 restored (flap)');
    await new Promise((r) => setTimeout(r, halfPeriodMs));
    cycles++;
  }
  const after = await lab.metrics();
  const f: FlapFigures = {
    seed,
    halfPeriodMs,
    cycles,
    switches: switches(after) - switches(before),
    gw1Transitions: metricSum(after, 'linkward_link_transitions_total', (l) => l.uplink === 'gw1') - tr0,
    nodeTransitions: metricSum(after, 'linkward_link_node_transitions_total') - nt0,
  };
  checks.push({
    step: 'flap 6',
    name: `route switches ≤ ${MAX_SWITCHES} while flapping`,
    ok: f.switches <= MAX_SWITCHES,
    detail: `${f.switches} switches in ${cycles} cycles (half-period ${halfPeriodMs} ms, seed ${seed})`,
  });
  checks.push({
    step: 'flap 6',
    name: `gw1 transitions ≤ ${MAX_GW1_TRANSITIONS} while flapping`,
    ok: f.gw1Transitions <= MAX_GW1_TRANSITIONS,
    detail: `${f.gw1Transitions} gw1 transitions, ${f.nodeTransitions} node transitions`,
  });
  return f;
}
