// Issue 9's accuracy goal over throughput rows (JSON lines of bench:probes): all readings, settled figures, lower bounds.
// Usage: node scripts/bench/probes-goal.mjs FILE... (or imported by probes.mjs for the run it just made)
import { readFileSync } from 'node:fs';

/** Goal of issue 9: median |error| ≤ 3 %, p95 ≤ 8 % against iperf3 -P 4. */
export const GOAL_MEDIAN_PERCENT = 3;
export const GOAL_P95_PERCENT = 8;

/** Nearest-rank percentile, p in 0..100; null for no data. */
function pick(xs, p) {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

const fmt = (x) => (x === null ? 'n/a' : x.toFixed(1));

function line(label, errs) {
  const abs = errs.map(Math.abs);
  const med = pick(abs, 50);
  const p95 = pick(abs, 95);
  const met = med !== null && p95 !== null && med <= GOAL_MEDIAN_PERCENT && p95 <= GOAL_P95_PERCENT;
  return `${label.padEnd(34)} n=${String(errs.length).padStart(3)}  median |err| ${fmt(med)} %  p95 ${fmt(p95)} %  max ${fmt(pick(abs, 100))} %  ${met ? 'goal met' : 'goal not met'}`;
}

/** Prints, per variant and direction: every reading, the settled figures, and how honest the lower bounds are. */
export function printGoal(rows) {
  const tp = rows.filter((r) => r.kind === 'throughput' && r.errorPercent !== null && r.errorPercent !== undefined);
  const variants = [...new Set(tp.map((r) => r.variant ?? 'default'))];
  console.log(`\ngoal check (median ≤ ${GOAL_MEDIAN_PERCENT} %, p95 ≤ ${GOAL_P95_PERCENT} %; all presets, modes and draws in the input)`);
  for (const variant of variants) {
    for (const dir of ['down', 'up']) {
      const g = tp.filter((r) => (r.variant ?? 'default') === variant && r.direction === dir);
      if (g.length === 0) continue;
      console.log(
        line(
          `${dir} ${variant}: every reading`,
          g.map((r) => r.errorPercent),
        ),
      );
      console.log(
        line(
          `${dir} ${variant}: settled figures`,
          g.filter((r) => !r.lowerBound).map((r) => r.errorPercent),
        ),
      );
      const lb = g.filter((r) => r.lowerBound).map((r) => r.errorPercent);
      if (lb.length > 0)
        console.log(
          `${`${dir} ${variant}: lower bounds (≥)`.padEnd(34)} n=${String(lb.length).padStart(3)}  signed median ${fmt(pick(lb, 50))} %  highest ${fmt(pick(lb, 100))} % (over the truth by more than 3 %: ${lb.filter((e) => e > 3).length})`,
        );
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = process.argv.slice(2).flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l)),
  );
  const seeds = [...new Set(rows.filter((r) => r.kind === 'throughput').map((r) => r.seed))];
  console.log(`${rows.filter((r) => r.kind === 'throughput').length} throughput rows from ${process.argv.length - 2} file(s), seeds ${seeds.join(', ')}`);
  printGoal(rows);
}
