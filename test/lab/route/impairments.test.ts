/** Lab (root): the built agent, quiet and with burners on every core: throttling → failover and back; 1 % loss → no switch; flapping at a random period → ≤ 1 switch. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuVariants, startBurners, type Burners } from '../../support/cpu-burners.ts';
import { prng } from '../../support/link-samples.ts';
import { FLAP_HALF_S } from '../../support/route-impair.ts';
import { flapScenario, lossScenario, throttleScenario } from '../../support/route-scenarios.ts';
import { buildInfo, cleanupOnSignal, createTrustLab, trustLabUnavailable, type TrustLab } from '../../support/trust-lab.ts';

/**
 * Windows of the scaled profile (the defaults' durations ÷ 5, test/support/route-impair.ts): 120 s stand for the issue's
 * 10 min. The full 10 min at the defaults run in `npm run bench:route-soak`.
 */
const LOSS_WINDOW_MS = 120_000;
const FLAP_WINDOW_MS = 120_000;
/** Worst case: lab + agent start, readiness ≤ 90 s (≈ 10 s seen), window 120 s, failback 90 s; typical ≈ 3 min. */
const TEST_LIMIT_MS = 330_000;

const skipReason = trustLabUnavailable();
if (skipReason && process.env.CI) assert.fail(`route impairment lab cannot run in CI: ${skipReason}`);
const seed = Number(process.env.ROUTE_IMPAIR_SEED ?? Math.floor(Math.random() * 1_000_000_000));
const rnd = prng(seed);

for (const busy of cpuVariants()) {
  const label = busy ? 'busy CPU (a burner per core at the agent priority)' : 'quiet CPU';
  test(`${label}: throttle → failover and failback; 1 % loss → no switch; square-wave flapping → ≤ 1 switch`, { timeout: TEST_LIMIT_MS }, async (t) => {
    if (skipReason) return t.skip(skipReason);
    const [lo, hi] = FLAP_HALF_S.scaled;
    const halfMs = (lo + Math.floor(rnd() * (hi - lo + 1))) * 1000;
    t.diagnostic(`${buildInfo()}; seed ${seed} (rerun: ROUTE_IMPAIR_SEED=${seed}); flapping half-period ${halfMs / 1000} s (drawn from ${lo}–${hi} s)`);
    // Three namespace sets, one per scenario, run side by side (they share only the CPU, which the busy case saturates anyway).
    const labs: TrustLab[] = [];
    let burners: Burners | null = null;
    const teardown = (): void => {
      burners?.stop();
      for (const l of labs) l.destroy();
    };
    const unhook = cleanupOnSignal(teardown);
    t.after(() => {
      teardown();
      unhook();
    });
    const tag = busy ? 'b' : 'q';
    for (const s of ['thr', 'los', 'flp']) labs.push(await createTrustLab(`lwt-r${tag}${s}-`));
    // Burners first, then the agents: their start-up happens on a saturated CPU too.
    if (busy) burners = startBurners();
    if (burners) t.diagnostic(`${burners.count} burners at nice ${burners.nice}${burners.shared ? ", shared by the runner's busy lab pass" : ''}`);
    const results = await Promise.all([
      throttleScenario(labs[0]!, 'scaled'),
      lossScenario(labs[1]!, 'scaled', LOSS_WINDOW_MS),
      flapScenario(labs[2]!, 'scaled', halfMs, FLAP_WINDOW_MS),
    ]);
    for (const r of results) t.diagnostic(`${r.name}: ${JSON.stringify(r.figures)}`);
    assert.deepEqual(
      results.flatMap((r) => r.problems.map((p) => `${r.name}: ${p}`)),
      [],
      `seed ${seed}, half-period ${halfMs / 1000} s`,
    );
  });
}
