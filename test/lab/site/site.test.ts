/** Lab (root): the edge-site script, bounded — steps 1–4 with the built agent, quiet and with CPU burners on every core (step 8). */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuVariants } from '../../support/cpu-burners.ts';
import { buildInfo } from '../../support/trust-lab.ts';
import { siteLabUnavailable } from '../../support/site-lab.ts';
import { runSite, siteCleanupOnSignal, type VariantResult } from '../../support/site-lab-run.ts';
import { failures, figureLines, timelineLine } from '../../support/site-lab-report.ts';

/**
 * Cost: measured 73 s quiet + 80 s with burners = 154 s for the file on the 2-core CI machine (2026-12-03, load average
 * 4–7 from other sessions' tests; 83 + 78 s in the first measurement; bounds allow
 * ≤ 45 s throttle detection, so a slow pass stays under PASS_TIMEOUT_MS). Steps 5–7 (kill -9, flapping, API
 * server across the link) run in `npm run lab` only, to keep the CI suite well under its 20 min. With other work on the
 * machine (load average 10–14 on the 2 cores besides the burners) the agent set every throttled speed test aside as
 * `starved` and the burners pass missed the 45 s bound (twice on 2026-12-03, and in CI on 2026-12-05): that is the agent
 * refusing untrustworthy figures, not a slow detection. The check then asks for the verdict within 10 s of the first low
 * download figure the agent's log shows it vouched for (none within the 90 s cap fails), and the report prints the tests
 * it set aside.
 */
const PASS_TIMEOUT_MS = 200_000;

const skipReason = siteLabUnavailable();
if (skipReason && process.env.CI) assert.fail(`site lab cannot run in CI: ${skipReason}`);
const unhook = siteCleanupOnSignal();
after(() => unhook());

function report(t: { diagnostic(s: string): void }, results: readonly VariantResult[]): void {
  for (const r of results) {
    for (const e of r.timeline) t.diagnostic(timelineLine(e, r.t0));
    for (const l of figureLines(r)) t.diagnostic(l);
    for (const c of r.checks) t.diagnostic(`${c.ok ? 'ok  ' : 'FAIL'} ${c.step}: ${c.name}${c.ok ? '' : ` — ${c.detail}`}`);
    if (r.dir !== '(removed)') t.diagnostic(`lab folder kept: ${r.dir}`);
  }
}

for (const burners of cpuVariants()) {
  test(`edge site, steps 1–4${burners ? ', CPU burners on every core at the agent priority' : ', quiet CPU'}`, { timeout: PASS_TIMEOUT_MS }, async (t) => {
    if (skipReason) return t.skip(skipReason);
    const seed = Math.floor(Math.random() * 1_000_000);
    t.diagnostic(`${buildInfo()}; seed ${seed}`);
    const results = await runSite({ variants: ['main'], burners, seed });
    report(t, results);
    const checks = results.flatMap((r) => r.checks);
    assert.ok(checks.length >= 15, `the script ran only ${checks.length} checks: ${results.map((r) => r.error).join('\n')}`);
    const bad = failures(results);
    assert.equal(bad.length, 0, `failed checks:\n${bad.join('\n')}`);
  });
}
