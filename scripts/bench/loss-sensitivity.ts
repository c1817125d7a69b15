// Loss-detection sensitivity of the defaults (npm run bench:loss-sensitivity): what random loss is detected within what
// time, starting from the settled schedule. Simulated clock, the real planner (probes/adaptive.ts), window
// (probes/stats.ts) and link-state machine (agent/core/link-state.ts). Prints the seed and every drawn case.
// Usage: node scripts/bench/loss-sensitivity.ts [--runs 200] [--seed N] [--targets 3] [--window 60]
import type { ProbeSample } from '../../agent/core/types.ts';
import { evaluate, initialLinkState, setActive, step, toSnapshot } from '../../agent/core/link-state.ts';
import { DEFAULT_WINDOW_PACKETS, ProbesConfigSchema } from '../../agent/config/probes.ts';
import { afterRound, initialPlanner, nextDelayMs, quorumNow, targetsForRound } from '../../probes/adaptive.ts';
import { UDP_PER_ROUND } from '../../probes/light-round.ts';
import { summariseWindow, type WindowEntry } from '../../probes/stats.ts';
import { prng } from '../../test/support/link-samples.ts';

const args = process.argv.slice(2);
const opt = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] as string) : def;
};
const RUNS = Number(opt('runs', '200'));
const SEED = Number(opt('seed', String(Date.now() % 1_000_000)));
const TARGETS = Number(opt('targets', '3'));
const WINDOW = Number(opt('window', String(DEFAULT_WINDOW_PACKETS)));
/** Give up on a run after this long: the loss is then "not detected within" it. */
const LIMIT_MS = 30 * 60_000;
/** Settle first: one hour of clean rounds so the schedule is at its longest interval, as on a quiet link. */
const SETTLE_MS = 3_600_000;
const T0 = 1_700_000_000_000;

const rand = prng(SEED);

const cfg = ProbesConfigSchema.parse({ windowPackets: WINDOW });
const ids = Array.from({ length: TARGETS }, (_, i) => `t${i}`);

/** Time from the start of loss `p` to the node leaving healthy (null: not within LIMIT_MS). */
function detect(p: number): number | null {
  let planner = initialPlanner(cfg);
  let ls = setActive(initialLinkState(['wan'], T0), 'wan', T0, cfg.health).state;
  let window: WindowEntry[] = [];
  let t = T0;
  const lossFrom = T0 + SETTLE_MS;
  while (t < lossFrom + LIMIT_MS) {
    const chosen = targetsForRound(planner, cfg, TARGETS).map((i) => ids[i] as string);
    const lossy = t >= lossFrom;
    const probed = chosen.map((id) => {
      const lost = Array.from({ length: UDP_PER_ROUND }, () => lossy && rand() < p);
      window = [...window, ...lost.map((l) => ({ target: id, rttMs: l ? null : 30 }))].slice(-WINDOW);
      return { id, up: lost.some((l) => !l), lossless: lost.every((l) => !l) };
    });
    planner = afterRound(planner, cfg, probed, t, TARGETS);
    const q = quorumNow(planner, cfg, ids, t);
    const w = summariseWindow(window);
    const sample: ProbeSample = {
      uplink: 'wan',
      kind: 'light',
      atMs: t,
      rttMs: 30,
      rttP95Ms: w.rttP95Ms ?? 30,
      jitterMs: 1,
      lossPercent: w.lossPercent ?? 0,
      lossSamples: w.lossSamples ?? 0,
      targetsUp: q.up,
      targetsTotal: q.total,
      reachable: q.reachable,
      bytesUsed: 0,
    };
    ls = evaluate(step(ls, sample, t, cfg.health).state, t, cfg.health).state;
    const node = toSnapshot(ls, t).node;
    if (t >= lossFrom && node !== 'healthy') return t - lossFrom;
    if (t < lossFrom && node !== 'healthy' && node !== 'unknown') return -1; // false alarm while clean
    t += nextDelayMs(planner, rand());
  }
  return null;
}

const LOSSES = [0.01, 0.02, 0.03, 0.05, 0.1, 0.2];
console.log(
  JSON.stringify({
    seed: SEED,
    runs: RUNS,
    targets: TARGETS,
    windowPackets: WINDOW,
    intervalMs: cfg.intervalMs,
    maxIntervalMs: cfg.maxIntervalMs,
    limitMin: LIMIT_MS / 60_000,
  }),
);
const rows: string[] = [];
for (const p of LOSSES) {
  const times: number[] = [];
  let missed = 0;
  for (let r = 0; r < RUNS; r++) {
    const d = detect(p);
    if (d === null) missed++;
    else times.push(d);
  }
  times.sort((a, b) => a - b);
  const q = (x: number): string =>
    times.length === 0 ? '—' : `${Math.round((times[Math.min(times.length - 1, Math.floor(x * times.length))] as number) / 1000)} s`;
  const row = { lossPercent: p * 100, detectedShare: (RUNS - missed) / RUNS, medianS: q(0.5), p90S: q(0.9) };
  console.log(JSON.stringify(row));
  rows.push(`${String(p * 100).padStart(6)}  ${(((RUNS - missed) / RUNS) * 100).toFixed(0).padStart(9)} %  ${q(0.5).padStart(8)}  ${q(0.9).padStart(8)}`);
}
console.log(
  `\nloss detection from the settled schedule (${RUNS} runs each, seed ${SEED}, ${TARGETS} targets, window ${WINDOW}, limit ${LIMIT_MS / 60_000} min)`,
);
console.log('loss %   detected   median      p90');
for (const r of rows) console.log(r);
