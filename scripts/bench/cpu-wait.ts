// Benchmark (npm run bench:cpu-wait): what the agent's own judgement says of speed tests taken while busy loops share the cores.
// Loopback against a probe server in the same process: the "link" is the agent's own CPU, so every figure is bounded by
// it and the agent should set it aside (starved: loop lag; cpu_bound: process CPU or run-queue wait, probes/run-queue.ts)
// rather than vouch for it. (With the server in another process the client idles while the starved server catches up,
// which on a real uplink would be the link's pace: that setup cannot tell.) Busy-loop counts are drawn at random per
// run (--runs, --max-burners, --seed) and printed; the quiet reference runs first. No root, no network.
import { systemClock } from '../../agent/base/clock.ts';
import { DisturbanceWatch } from '../../probes/disturbance.ts';
import { threadCpu, threadCpuBetween } from '../../probes/run-queue.ts';
import type { Direction } from '../../probes/throughput.ts';
import { startBurners } from '../../test/support/cpu-burners.ts';
import { prng } from '../../test/support/link-samples.ts';
import { judgedThroughput } from '../../test/support/throughput-judged.ts';
import { startProbeServer } from '../../probes/server.ts';

const args = process.argv.slice(2);
const opt = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? def) : def;
};
const RUNS = Number(opt('runs', '8'));
const MAX_BURNERS = Number(opt('max-burners', '16'));
const SEED = Number(opt('seed', String(Math.floor(Math.random() * 2 ** 31))));
/** Loopback does hundreds of Mbit/s on this VM: a figure below this one is the CPU's, never the link's. */
const CPU_FIGURE_MBIT = 10;

const rnd = prng(SEED);
const counts = [0, ...Array.from({ length: RUNS - 1 }, () => Math.floor(rnd() * (MAX_BURNERS + 1)))];
console.error(`bench:cpu-wait seed ${SEED}: busy loops per run ${counts.join(', ')} (0 first, as the quiet reference)`);

const server = await startProbeServer({ host: '127.0.0.1', port: 0, maxBytesPerRequest: 8 * 1024 * 1024 });
const watch = new DisturbanceWatch(systemClock);
const rows: { burners: number; dir: Direction; mbps: number; suspect: string | null; waitPct: number; runPct: number }[] = [];
try {
  for (const burners of counts) {
    const b = burners > 0 ? startBurners({ count: burners }) : null;
    try {
      await new Promise((r) => setTimeout(r, 1_000)); // let the scheduler spread the loops
      for (const dir of ['down', 'up'] as const) {
        const t0 = systemClock.monoMs();
        const before = threadCpu();
        const j = await judgedThroughput(`http://127.0.0.1:${server.port}/`, dir, watch);
        const wall = systemClock.monoMs() - t0;
        const loop = threadCpuBetween(before, threadCpu());
        const row = {
          burners,
          dir,
          mbps: j.result.mbps ?? 0,
          suspect: j.suspect,
          waitPct: loop ? (100 * loop.waitMs) / wall : Number.NaN,
          runPct: loop ? (100 * loop.runMs) / wall : Number.NaN,
        };
        rows.push(row);
        console.log(JSON.stringify(row));
      }
    } finally {
      b?.stop();
    }
  }
} finally {
  await server.close();
}

console.log('\nloops dir   Mbit/s  run %  wait %  judged');
for (const r of rows)
  console.log(
    `${String(r.burners).padStart(5)} ${r.dir.padEnd(4)} ${r.mbps.toFixed(1).padStart(8)} ${r.runPct.toFixed(0).padStart(6)} ${r.waitPct.toFixed(0).padStart(7)}  ${r.suspect ?? 'vouched'}`,
  );
const vouchedLow = rows.filter((r) => r.suspect === null && r.mbps < CPU_FIGURE_MBIT);
const byReason = (xs: typeof rows): string =>
  Object.entries(Object.groupBy(xs, (r) => r.suspect ?? 'vouched'))
    .map(([k, v]) => `${k} ${v?.length ?? 0}`)
    .join(', ');
const busy = rows.filter((r) => r.burners > 0);
const vouchedBusy = busy.filter((r) => r.suspect === null).map((r) => r.mbps);
console.log(
  `\nquiet: ${byReason(rows.filter((r) => r.burners === 0))}; busy: ${byReason(busy)}${vouchedBusy.length ? `, lowest vouched ${Math.min(...vouchedBusy).toFixed(1)} Mbit/s` : ''}; figures under ${CPU_FIGURE_MBIT} Mbit/s vouched for: ${vouchedLow.length} (must be 0); seed ${SEED} (repeat with --seed ${SEED})`,
);
process.exit(vouchedLow.length === 0 ? 0 : 1);
