// Edge-site lab (issue 15): the whole mission end to end with the built agent in lws-* namespaces — measure, label,
// fail over, buffer, flush — quiet and with CPU burners on every core. Needs root, `npm run build`, kubectl,
// victoria-metrics. Run it under the shared lab lock:
//   flock /tmp/lw-lab.lock npm run lab -- [--report] [--seed N] [--variants main,kill,flap,remote-api] [--quiet-only|--burners-only] [--keep]
// Without --report it prints the timeline live for a person to watch; --report adds the figures and checks at the end.
import { hostname, cpus } from 'node:os';
import { statSync } from 'node:fs';
import { CLI, siteLabUnavailable } from '../../test/support/site-lab.ts';
import { ALL_VARIANTS, runSite, siteCleanupOnSignal, type Variant, type VariantResult } from '../../test/support/site-lab-run.ts';
import { failures, reportText, timelineLine } from '../../test/support/site-lab-report.ts';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const seed = Number(opt('--seed') ?? Math.floor(Math.random() * 1_000_000));
const variants = (opt('--variants')?.split(',') ?? [...ALL_VARIANTS]) as Variant[];
for (const v of variants) if (!ALL_VARIANTS.includes(v)) throw new Error(`unknown variant ${v}; use ${ALL_VARIANTS.join(',')}`);
const passes = args.includes('--quiet-only') ? [false] : args.includes('--burners-only') ? [true] : [false, true];
const report = args.includes('--report');

const why = siteLabUnavailable();
if (why) {
  console.error(`site lab cannot run: ${why}`);
  process.exit(2);
}
const header = `linkward edge-site lab — ${new Date().toISOString()} — ${hostname()} (${cpus().length} × ${cpus()[0]?.model ?? '?'}) — ${CLI} built ${statSync(CLI).mtime.toISOString()} — seed ${seed} — variants ${variants.join(',')}`;
console.log(header);
const unhook = siteCleanupOnSignal();
const results: VariantResult[] = [];
const started = Date.now();
for (const burners of passes) {
  console.log(`\n### ${burners ? 'CPU burners on every core at the agent priority (step 8)' : 'quiet CPU'}`);
  results.push(...(await runSite({ variants, burners, seed, keepDir: args.includes('--keep'), print: (e, t0) => console.log(timelineLine(e, t0)) })));
}
unhook();
if (report) console.log(`\n${reportText(results, `REPORT (${Math.round((Date.now() - started) / 1000)} s in total)`)}`);
const bad = failures(results);
console.log(bad.length ? `\n${bad.length} check(s) failed:\n${bad.map((b) => `  ${b}`).join('\n')}` : '\nall checks passed');
process.exit(bad.length ? 1 : 0);
