// Random-loss benchmark: how the link-state machine (defaults) classifies a link with steady random packet loss.
// Usage: node scripts/bench/link-random-loss.ts   (simulated clock: 6 h per case, 3 probe packets per 5 s round)
import type { ProbeSample } from '../../agent/core/types.ts';
import { evaluate, initialLinkState, setActive, step as linkStep, toSnapshot } from '../../agent/core/link-state.ts';
import { defaultLinkHealthConfig } from '../../agent/config/link.ts';

const T0 = 1_700_000_000_000;
/** Simulated duration per case: long enough for damping holds (≤ 30 min) to come and go many times. */
const DURATION_MS = 6 * 3_600_000;
/** Probe cadence of the defaults before the interval stretches: one round every 5 s, 3 targets. */
const ROUND_MS = 5_000;
const PACKETS_PER_ROUND = 3;
const CASES: readonly [lossRate: number, windowPackets: number][] = [
  [0.005, 20],
  [0.01, 20],
  [0.02, 20],
  [0.05, 20],
  [0.1, 20],
  [0.01, 60],
  [0.1, 60],
];

const rows = [];
for (const [p, W] of CASES) {
  let seed = 42;
  const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const health = defaultLinkHealthConfig();
  let ls = setActive(initialLinkState(['wan'], T0), 'wan', T0, health).state;
  let window: boolean[] = [];
  let prev = '';
  let transitions = 0;
  const seconds: Record<string, number> = { healthy: 0, degraded: 0, down: 0, unknown: 0 };
  for (let t = T0; t < T0 + DURATION_MS; t += ROUND_MS) {
    window = [...window, ...Array.from({ length: PACKETS_PER_ROUND }, () => rand() < p)].slice(-W);
    const s: ProbeSample = {
      uplink: 'wan',
      kind: 'light',
      atMs: t,
      rttMs: 30,
      rttP95Ms: 35,
      jitterMs: 2,
      lossPercent: (100 * window.filter(Boolean).length) / window.length,
      lossSamples: window.length,
      targetsUp: 3,
      targetsTotal: 3,
      reachable: true,
      bytesUsed: 0,
    };
    ls = evaluate(linkStep(ls, s, t, health).state, t, health).state;
    const node = toSnapshot(ls, t).node;
    if (prev !== '' && node !== prev) transitions++;
    prev = node;
    seconds[node] = (seconds[node] ?? 0) + ROUND_MS / 1000;
  }
  const total = DURATION_MS / 1000;
  const row = {
    lossPercent: p * 100,
    windowPackets: W,
    transitions,
    healthyPct: +((100 * (seconds.healthy ?? 0)) / total).toFixed(1),
    degradedPct: +((100 * (seconds.degraded ?? 0)) / total).toFixed(1),
    downPct: +((100 * (seconds.down ?? 0)) / total).toFixed(1),
  };
  rows.push(row);
  console.log(JSON.stringify(row));
}
console.log('\nrandom loss, 6 h simulated, link-state defaults');
console.log('loss %  window  transitions  healthy %  degraded %  down %');
for (const r of rows)
  console.log(
    `${String(r.lossPercent).padStart(6)}  ${String(r.windowPackets).padStart(6)}  ${String(r.transitions).padStart(11)}  ${String(r.healthyPct).padStart(9)}  ${String(r.degradedPct).padStart(10)}  ${String(r.downPct).padStart(6)}`,
  );
