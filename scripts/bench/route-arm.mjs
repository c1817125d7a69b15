// Benchmark of commit-confirm's dead-man switch: arming the pre-started revert helper (goal ≤ 100 ms), compared with
// starting a helper process per switch (the old way), how late the helper fires past its deadline, and how soon it
// reverts after kill -9 of the agent. Quiet and with a busy loop on every core. No namespaces, no real routes: the
// "revert" command is /bin/true.
// Usage: flock /tmp/lw-lab.lock node scripts/bench/route-arm.mjs [runs=7]   (prints JSON lines, then a table)
//
// --load: arm latency alone (plan written → helper's acknowledgement, the wait ARM_ACK_TIMEOUT_MS bounds) under load
// levels drawn at random per run and printed: quiet; one busy loop per core (the agent's nice level); three
// oversubscribed levels (busy-loop counts drawn from 3-5, 6-11 and 12-20 on a 2-core node); one loop per core plus
// dd+fsync writers on the state directory's file system; one loop per core plus parallel gcc compiles (the CI
// failure's neighbours); all of these at once with 4-10 loops (mixed). Levels run in a random order, each for --arms
// arms or --level-s seconds, whichever ends first. An arm that fails (no ack within the timeout) is counted as failed.
// Usage: flock /tmp/lw-lab.lock node scripts/bench/route-arm.mjs --load [--arms 300] [--level-s 15] [--seed S]
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../agent/base/log.ts';
import { ARM_ACK_TIMEOUT_MS, claimRevert, confirmClaimed, createRevertHelper, sharedMonoMs } from '../../agent/route/revert-helper.ts';
import { startBurners } from '../../test/support/cpu-burners.ts';
// seeded PRNG (mulberry32): a run's draws are printed and can be repeated with --seed
import { prng } from '../../test/support/link-samples.ts';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const LOAD = args.includes('--load');
const RUNS = Math.max(5, Number(args.find((a) => /^\d+$/.test(a)) ?? 7));
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

/** The original comparison: quiet and with one busy loop per core, every measure. */
async function compare() {
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
}

const SQLITE_C = new URL('../../node_modules/better-sqlite3/deps/sqlite3/sqlite3.c', import.meta.url).pathname;

/**
 * @typedef {{ level: string, burners: number, writers?: number, bsKiB?: number, fileMiB?: number, gccJobs?: number, gccOpt?: string }} Level
 */

/** The load levels of one --load run, drawn at random (counts scale with the cores), in a random order. @returns {Level[]} */
function drawLevels(rnd) {
  const c = availableParallelism();
  const between = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
  /** @type {Level[]} */
  const levels = [
    { level: 'quiet', burners: 0 },
    { level: 'per-core', burners: c },
    { level: 'over-2x', burners: between(Math.ceil(1.5 * c), Math.floor(2.5 * c)) },
    { level: 'over-4x', burners: between(3 * c, Math.floor(5.5 * c)) },
    { level: 'over-8x', burners: between(6 * c, 10 * c) },
    { level: 'io', burners: c, writers: between(1, 2), bsKiB: [256, 1024, 4096][between(0, 2)], fileMiB: between(16, 128) },
  ];
  if (existsSync(SQLITE_C)) {
    levels.push({ level: 'gcc', burners: c, gccJobs: between(2, 4), gccOpt: ['-O1', '-O2'][between(0, 1)] });
    // all at once: oversubscribed busy loops, compiles and an fsync writer (a CI run beside a build and unit tests)
    const bsKiB = [256, 1024, 4096][between(0, 2)];
    levels.push({ level: 'mixed', burners: between(2 * c, 5 * c), writers: 1, bsKiB, fileMiB: between(16, 128), gccJobs: between(2, 4), gccOpt: '-O2' });
  }
  for (let i = levels.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [levels[i], levels[j]] = [levels[j], levels[i]];
  }
  return levels;
}

/** Process groups of shell loops (dd, gcc) still running: killed on any exit, so nothing is left behind. */
const groups = new Set();
const killGroups = () => {
  for (const pid of groups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  groups.clear();
};

function shellLoop(script) {
  const c = spawn('sh', ['-c', `while :; do ${script}; done`], { detached: true, stdio: 'ignore' });
  if (c.pid !== undefined) groups.add(c.pid);
}

/** Starts a level's load; returns its stop function. */
function startLoad(l) {
  const burners = l.burners > 0 ? startBurners({ count: l.burners }) : null;
  for (let i = 0; i < (l.writers ?? 0); i++) {
    const f = join(dir, `dd-${i}.bin`);
    shellLoop(`dd if=/dev/zero of=${f} bs=${l.bsKiB}K count=${Math.max(1, Math.round((l.fileMiB * 1024) / l.bsKiB))} conv=fsync status=none`);
  }
  for (let i = 0; i < (l.gccJobs ?? 0); i++) shellLoop(`gcc ${l.gccOpt} -c ${SQLITE_C} -o ${join(dir, `gcc-${i}.o`)}`);
  return () => {
    burners?.stop();
    killGroups();
  };
}

/** Runnable tasks (procs_running in /proc/stat), sampled while a level runs: how oversubscribed the 2 cores really were. */
function runQueueSampler() {
  const xs = [];
  const t = setInterval(() => {
    try {
      const m = /procs_running (\d+)/.exec(readFileSync('/proc/stat', 'utf8'));
      if (m) xs.push(Number(m[1]));
    } catch {
      /* no /proc */
    }
  }, 250);
  return () => {
    clearInterval(t);
    return xs.length ? Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 10) / 10 : NaN;
  };
}

const pct = (s, q) => (s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] : NaN);
const r1 = (x) => Math.round(x * 10) / 10;

/** Arm latency (plan written → acknowledgement) under each drawn load level, through one pre-started helper. */
async function armLoad() {
  const SEED = Number(opt('seed', String(Math.floor(Math.random() * 2 ** 31))));
  const ARMS = Number(opt('arms', '300'));
  const LEVEL_MS = Number(opt('level-s', '15')) * 1000;
  const rnd = prng(SEED);
  const levels = drawLevels(rnd);
  // An interrupted run (SIGINT, SIGTERM from timeout) leaves no loops and no files (dd's can be 100+ MiB) behind.
  process.on('exit', () => {
    killGroups();
    rmSync(dir, { recursive: true, force: true });
  });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
  console.log(
    JSON.stringify({ kind: 'draw', seed: SEED, cores: availableParallelism(), arms: ARMS, levelMs: LEVEL_MS, ackTimeoutMs: ARM_ACK_TIMEOUT_MS, levels }),
  );
  const helper = createRevertHelper({ stateDir: dir, launcher: 'detached', log: silentLogger() });
  const rows = [];
  try {
    await helper.start();
    for (const l of levels) {
      const stop = startLoad(l);
      let rq = () => NaN;
      const ok = [];
      const failedMs = [];
      try {
        await sleep(l.gccJobs ? 2000 : 1000);
        rq = runQueueSampler();
        const t0 = performance.now();
        while (ok.length + failedMs.length < ARMS && performance.now() - t0 < LEVEL_MS) {
          const file = join(dir, `route-revert-${++seq}.json`);
          const a = performance.now();
          try {
            await helper.arm(file, planFor(60_000));
            ok.push(performance.now() - a);
            claimRevert(file);
            confirmClaimed(file);
            helper.disarm(file);
          } catch {
            failedMs.push(performance.now() - a);
          }
          for (const f of readdirSync(dir)) if (f.startsWith(`route-revert-${seq}.`)) rmSync(join(dir, f), { force: true });
          await sleep(Math.floor(rnd() * 50));
        }
      } finally {
        stop();
      }
      const runQueue = rq();
      const s = [...ok].sort((a, b) => a - b);
      const row = {
        ...l,
        runQueue,
        n: s.length,
        failed: failedMs.length,
        p50: r1(pct(s, 0.5)),
        p90: r1(pct(s, 0.9)),
        p99: r1(pct(s, 0.99)),
        max: r1(s.at(-1) ?? NaN),
        over100: s.filter((x) => x > 100).length,
        over1000: s.filter((x) => x > 1000).length,
      };
      rows.push(row);
      console.log(JSON.stringify({ kind: 'arm-load', seed: SEED, ...row, armMs: ok.map((x) => Math.round(x * 100) / 100), failedMs: failedMs.map(r1) }));
      await sleep(500);
    }
  } finally {
    await helper.stop();
    killGroups();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\narm latency under load, seed ${SEED} (ms, plan written → acknowledgement; ARM_ACK_TIMEOUT_MS = ${ARM_ACK_TIMEOUT_MS})`);
  console.log(`level     ${'load drawn'.padEnd(62)} run queue  n     p50    p90    p99    max     >100ms  >1s  failed`);
  const order = ['quiet', 'per-core', 'over-2x', 'over-4x', 'over-8x', 'io', 'gcc', 'mixed'];
  for (const r of rows.sort((a, b) => order.indexOf(a.level) - order.indexOf(b.level))) {
    const load = [
      `${r.burners} busy loop(s)`,
      r.writers ? `${r.writers} dd ${r.bsKiB}K×${r.fileMiB}MiB+fsync` : '',
      r.gccJobs ? `${r.gccJobs} gcc ${r.gccOpt} sqlite3.c` : '',
    ]
      .filter(Boolean)
      .join(' + ');
    const n = (x) => String(x).padStart(6);
    console.log(
      `${r.level.padEnd(9)} ${load.padEnd(62)} ${String(r.runQueue).padStart(9)}  ${String(r.n).padEnd(4)} ${n(r.p50)} ${n(r.p90)} ${n(r.p99)} ${n(r.max)}  ${String(r.over100).padStart(6)} ${String(r.over1000).padStart(4)} ${String(r.failed).padStart(7)}`,
    );
  }
  console.log(`(repeat with --load --seed ${SEED})`);
}

if (LOAD) await armLoad();
else await compare();
