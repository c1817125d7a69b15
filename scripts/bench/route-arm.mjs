// Benchmark of commit-confirm's dead-man switch: arming the pre-started revert helper (goal ≤ 100 ms), compared with
// starting a helper process per switch (the old way), how late the helper fires past its deadline, and how soon it
// reverts after kill -9 of the agent. Quiet and with a busy loop on every core. No namespaces, no real routes: the
// "revert" command is /bin/true.
// Usage: flock /tmp/lw-lab.lock node scripts/bench/route-arm.mjs [runs=7]   (prints JSON lines, then a table)
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../agent/base/log.ts';
import { claimRevert, confirmClaimed, createRevertHelper, sharedMonoMs } from '../../agent/route/revert-helper.ts';
import { startBurners } from '../../test/support/cpu-burners.ts';

const RUNS = Math.max(5, Number(process.argv[2] ?? 7));
/** Helper fire-lateness runs use a deadline this far ahead (long enough to arm first under load). */
const FIRE_IN_MS = 300;
/** Bounded waits: a result that does not appear within this long is reported as a failure, not waited for. */
const WAIT_MS = 20_000;
const HELPER_MODULE = new URL('../../agent/route/revert-helper.ts', import.meta.url).href;

const dir = mkdtempSync(join(tmpdir(), 'lwr-arm-bench-'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFile(file) {
  const t0 = performance.now();
  while (!existsSync(file)) {
    if (performance.now() - t0 > WAIT_MS) return false;
    await sleep(5);
  }
  return true;
}
const planFor = (inMs) => {
  const now = sharedMonoMs();
  return { deadlineMono: now + inMs, revertAtMono: now + inMs, deadlineMs: Date.now() + inMs, cmd: '/bin/true', commands: [['revert']] };
};
let seq = 0;

/** The old way: one Node process started per switch; "armed" once it runs its first line. */
async function spawnPerSwitchMs() {
  const t0 = performance.now();
  const c = spawn(process.execPath, ['-e', 'process.stdout.write("up")'], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise((r) => c.stdout.once('data', r));
  const ms = performance.now() - t0;
  await new Promise((r) => c.once('exit', r));
  return ms;
}

/** kill -9 of an agent process with an armed plan (deadline 60 s away) → ms until the helper's revert started. */
async function killRevertMs() {
  const file = join(dir, `route-revert-kill-${++seq}.json`);
  const src = `import { createRevertHelper, sharedMonoMs } from ${JSON.stringify(HELPER_MODULE)};
    const h = createRevertHelper({ stateDir: ${JSON.stringify(dir)}, launcher: 'detached', log: { warn() {}, error() {}, info() {}, debug() {} } });
    await h.start(); const now = sharedMonoMs();
    await h.arm(${JSON.stringify(file)}, { deadlineMono: now + 60000, revertAtMono: now + 60000, deadlineMs: Date.now() + 60000, cmd: '/bin/true', commands: [['revert']] });
    process.stdout.write('armed'); setInterval(() => {}, 1000);`;
  const agent = spawn(process.execPath, ['--input-type=module', '-e', src], { stdio: ['ignore', 'pipe', 'inherit'] });
  const armed = await Promise.race([new Promise((r) => agent.stdout.once('data', () => r(true))), sleep(WAIT_MS).then(() => false)]);
  if (!armed) {
    agent.kill('SIGKILL');
    return NaN;
  }
  const killedAt = sharedMonoMs();
  agent.kill('SIGKILL');
  if (!(await waitFile(file + '.result'))) return NaN;
  return JSON.parse(readFileSync(file + '.result', 'utf8')).startedAtMono - killedAt;
}

async function measure(_mode) {
  const helper = createRevertHelper({ stateDir: dir, launcher: 'detached', log: silentLogger() });
  const rows = { helperStartMs: [], armMs: [], spawnPerSwitchMs: [], fireLateMs: [], killRevertMs: [] };
  try {
    let t0 = performance.now();
    await helper.start();
    rows.helperStartMs.push(performance.now() - t0);
    for (let i = 0; i < RUNS; i++) {
      // Arm, then confirm (claim) as a successful switch would.
      const file = join(dir, `route-revert-${++seq}.json`);
      t0 = performance.now();
      await helper.arm(file, planFor(60_000));
      rows.armMs.push(performance.now() - t0);
      claimRevert(file);
      confirmClaimed(file);
      helper.disarm(file);
      rows.spawnPerSwitchMs.push(await spawnPerSwitchMs());
      // Nobody claims: the helper fires at the deadline; how late is it?
      const fire = join(dir, `route-revert-${++seq}.json`);
      const p = planFor(FIRE_IN_MS);
      await helper.arm(fire, p);
      rows.fireLateMs.push((await waitFile(fire + '.result')) ? JSON.parse(readFileSync(fire + '.result', 'utf8')).startedAtMono - p.revertAtMono : NaN);
      rows.killRevertMs.push(await killRevertMs());
      await sleep(100);
    }
  } finally {
    await helper.stop();
  }
  return rows;
}

const stats = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const r = (x) => (x === undefined ? NaN : Math.round(x * 10) / 10);
  return { n: s.length, failed: xs.length - s.length, median: r(s[Math.floor((s.length - 1) / 2)]), max: r(s.at(-1)) };
};

const results = {};
try {
  for (const mode of ['quiet', 'loaded']) {
    const burners = mode === 'loaded' ? startBurners() : null;
    try {
      if (burners) await sleep(500);
      const rows = await measure(mode);
      results[mode] = { burners: burners?.count ?? 0, ...Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, stats(v)])) };
      console.log(JSON.stringify({ mode, ...rows }));
    } finally {
      burners?.stop();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`\nroute revert arming, ${RUNS} runs per mode (ms, median / max)`);
console.log('mode     burners  arm (pre-started)  start per switch (old)  helper fire late  revert after kill -9  helper cold start');
for (const [mode, r] of Object.entries(results)) {
  const f = (s) => `${s.median} / ${s.max}${s.failed ? ` (${s.failed} failed)` : ''}`.padEnd(18);
  console.log(
    `${mode.padEnd(8)} ${String(r.burners).padEnd(8)} ${f(r.armMs)} ${f(r.spawnPerSwitchMs).padEnd(23)} ${f(r.fireLateMs)} ${f(r.killRevertMs).padEnd(21)} ${r.helperStartMs.max}`,
  );
}
