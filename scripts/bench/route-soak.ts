// Route soak (root, lab): the built agent at its defaults for a full window (10 min by default), in two namespace sets
// side by side: 1 % random loss on the primary's path (goal: 0 switches, no worsening transition) and square-wave
// flapping of the primary at a half-period drawn at random from the flapping range (goal: ≤ 1 switch in the window),
// then how long until traffic is back on the primary. Quiet, or with busy loops on every core at the agent's priority.
// Usage: node scripts/bench/route-soak.ts [--minutes 10] [--burners-per-core N] [--seed N] [--half S] [--only loss|flap]
//        (npm run bench:route-soak -- …; needs `npm run build`; wrap in `flock /tmp/lw-lab.lock` on shared machines)
import { availableParallelism } from 'node:os';
import { startBurners, type Burners } from '../../test/support/cpu-burners.ts';
import { prng } from '../../test/support/link-samples.ts';
import { FLAP_HALF_S } from '../../test/support/route-impair.ts';
import { flapScenario, lossScenario, type ScenarioResult } from '../../test/support/route-scenarios.ts';
import { buildInfo, cleanupOnSignal, createTrustLab, trustLabUnavailable, type TrustLab } from '../../test/support/trust-lab.ts';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const minutes = Number(arg('--minutes') ?? 10);
const perCore = Number(arg('--burners-per-core') ?? 0);
const seed = Number(arg('--seed') ?? Math.floor(Math.random() * 1_000_000_000));
const only = arg('--only');
const [lo, hi] = FLAP_HALF_S.defaults;
const rnd = prng(seed);
const halfS = Number(arg('--half') ?? lo + Math.floor(rnd() * (hi - lo + 1)));

const unavailable = trustLabUnavailable();
if (unavailable) {
  console.error(`bench:route-soak: ${unavailable}`);
  process.exit(2);
}
const windowMs = minutes * 60_000;
const labs: TrustLab[] = [];
let burners: Burners | null = null;
const teardown = (): void => {
  burners?.stop();
  for (const l of labs) l.destroy();
};
const unhook = cleanupOnSignal(teardown);
const meta = {
  bench: 'route-soak',
  seed,
  minutes,
  flapHalfS: halfS,
  flapRangeS: [lo, hi],
  burnersPerCore: perCore,
  cores: availableParallelism(),
  only: only ?? 'loss+flap',
  build: buildInfo(),
  startedAt: new Date().toISOString(),
};
process.stdout.write(JSON.stringify(meta) + '\n');
process.stderr.write(
  `seed ${seed} (rerun: --seed ${seed}); flapping half-period ${halfS} s drawn from ${lo}–${hi} s; window ${minutes} min; ${perCore} burner(s) per core\n`,
);

let results: ScenarioResult[] = [];
try {
  if (only !== 'flap') labs.push(await createTrustLab('lwt-soakl-'));
  if (only !== 'loss') labs.push(await createTrustLab('lwt-soakf-'));
  // Burners before the agents start: their start-up happens on a saturated CPU too.
  if (perCore > 0) burners = startBurners({ count: perCore * availableParallelism() });
  const runs: Promise<ScenarioResult>[] = [];
  let i = 0;
  if (only !== 'flap') runs.push(lossScenario(labs[i++]!, 'defaults', windowMs));
  if (only !== 'loss') runs.push(flapScenario(labs[i++]!, 'defaults', halfS * 1000, windowMs));
  results = await Promise.all(runs);
} finally {
  teardown();
  unhook();
}
for (const r of results) process.stdout.write(JSON.stringify({ scenario: r.name, ...r.figures, problems: r.problems }) + '\n');
const f = (r: ScenarioResult | undefined, k: string): string => (r ? JSON.stringify(r.figures[k] ?? null) : 'n/a');
const loss = results.find((r) => r.name === 'loss');
const flap = results.find((r) => r.name === 'flap');
process.stderr.write(`\nseed ${seed}; ${perCore} burner(s) per core; window ${minutes} min\n`);
if (loss)
  process.stderr.write(
    `1 % loss: switches ${f(loss, 'switches')}, worsening transitions ${f(loss, 'worseningTransitions')}, wan seen ${f(loss, 'wanHealthsSeen')}, packets dropped ${f(loss, 'packetsDropped')}, traffic ${f(loss, 'trafficDuringLoss')}\n`,
  );
if (flap)
  process.stderr.write(
    `flapping ${halfS} s / ${halfS} s: dead phases ${f(flap, 'deadPhases')}, switches ${f(flap, 'switches')} (${f(flap, 'switchesDuring')}), back on wan ${f(flap, 'backOnWanAfterStopMs')} ms after it stopped\n`,
  );
const problems = results.flatMap((r) => r.problems.map((p) => `${r.name}: ${p}`));
process.stderr.write(problems.length ? `GOAL MISSED:\n  ${problems.join('\n  ')}\n` : 'goals met\n');
process.exitCode = problems.length ? 1 : 0;
