// Test runner: unit + integration files in parallel, then the lab (see below); prints one closing count line.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { LAB_CPU_ENV, SHARED_BURNERS_ENV, startBurners } from '../test/support/cpu-burners.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/**
 * Parallel unit and integration files. Most of them wait on child processes, sockets and timers, so 4 on the CI
 * machine's 2 cores keeps both busy: 154-158 s for the phase against 171 s with 3 and ≈ 208 s with 2 (816 tests,
 * 2026-12-03). The tmux `status --watch` test that timed out at 4 did so because tmux 3.3 does not always reap a
 * pane's process, not because of the load (fixed in the test). LINKWARD_TEST_PARALLEL overrides it.
 */
const PARALLEL_FILES = Number(process.env.LINKWARD_TEST_PARALLEL ?? 4);
/** Upper bound for any single test, so a hung test fails instead of eating the CI budget. */
const TEST_TIMEOUT_MS = 240_000;
/**
 * Upper bound for a whole phase: a file whose failed test skipped its cleanup (a server, a probe loop) keeps its process
 * alive after its tests, and node:test waits for it; CI then hung until its 90-min limit (session 20). The slowest
 * phase takes 330-406 s in CI. At the limit the run is aborted: the files still running are killed and fail
 * (testAborted). Not forceExit: with it node:test drops the results of tests that ran (session 21: 17 of 32 reported
 * in one run of test/unit/buffer/decisions.test.ts; CI counts of 1015-1043 for the same files).
 * LINKWARD_TEST_PHASE_TIMEOUT_MS overrides it.
 */
const PHASE_TIMEOUT_MS = Number(process.env.LINKWARD_TEST_PHASE_TIMEOUT_MS ?? 15 * 60_000);

function listTests(dir) {
  const out = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries.sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listTests(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const only = process.argv.slice(2); // e.g. `unit`, `integration`, `lab`, or file paths
const groups = ['unit', 'integration', 'lab'];
const selected = only.length === 0 ? groups : only;
const files = (g) => (groups.includes(g) ? listTests(join(root, 'test', g)) : [resolve(g)]);

/** Lines of a failure's reason kept in the closing list: CI keeps only the tail of the log, so the reason goes there. */
const WHY_LINES = 6;

/** The assertion or error behind a failed test, indented, a few lines (the spec reporter above has the whole stack). */
function why(err) {
  const e = err?.cause ?? err;
  const code = /** @type {{ code?: unknown }} */ (e)?.code;
  const text = e instanceof Error ? `${typeof code === 'string' ? `${code}: ` : ''}${e.message}` : String(e ?? 'no error given');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(0, WHY_LINES)
    .map((l) => `      ${l.length > 400 ? `${l.slice(0, 400)}…` : l}`)
    .join('\n');
}

let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];

async function phase(list, concurrency) {
  if (list.length === 0) return;
  const ac = new AbortController();
  const watchdog = setTimeout(() => {
    process.stdout.write(`\nphase still running after ${Math.round(PHASE_TIMEOUT_MS / 1000)} s: aborting it (the files left are killed and fail)\n`);
    ac.abort();
  }, PHASE_TIMEOUT_MS);
  const stream = run({ files: list, concurrency, timeout: TEST_TIMEOUT_MS, cwd: root, signal: ac.signal });
  stream.on('test:pass', (d) => {
    if (d.details?.type === 'suite') return;
    if (d.skip || d.todo) skipped++;
    else passed++;
  });
  stream.on('test:fail', (d) => {
    if (d.details?.type === 'suite') return;
    failed++;
    failures.push(`${d.file ? relative(root, d.file) : '?'}: ${d.name}\n${why(d.details?.error)}`);
  });
  try {
    await new Promise((resolveDone, reject) => {
      const out = stream.compose(spec);
      out.on('data', (chunk) => process.stdout.write(chunk));
      out.on('end', resolveDone);
      out.on('error', reject);
    });
  } finally {
    clearTimeout(watchdog);
  }
}

/**
 * Lab files that declare their CPU variants with cpuVariants() (test/support/cpu-burners.ts) are the long ones (minutes
 * each; 2 × 153–180 s for the route impairments alone) and each owns its namespace names. They run side by side in two
 * passes: every quiet variant (no burners), then every busy variant while one burner per core runs at the agents'
 * priority, started here before the first agent and shared by the files (a set per file would be 3 burners per core,
 * not the condition the tests name). In both passes the other files' agents run beside each one: "quiet" means no
 * burners, not an idle machine; the load average of each pass is printed at the end. The other lab files share
 * namespace names (lwr-*, lwp-*) and run one at a time, each with its own variants.
 */
const labDir = join(root, 'test', 'lab') + '/';
const all = selected.flatMap(files);
const fast = all.filter((f) => !f.startsWith(labDir));
const lab = all.filter((f) => f.startsWith(labDir));
const paired = lab.filter((f) => readFileSync(f, 'utf8').includes('cpuVariants()'));
const single = lab.filter((f) => !paired.includes(f));

/** Load average sampling interval during a phase: the side-by-side passes report how busy the machine really was. */
const LOAD_SAMPLE_MS = 5_000;
const timings = [];
/** Runs a phase and says how long it took and the highest 1-min load average seen (the lab's conditions, CI's time goal). */
async function timed(name, list, concurrency) {
  if (list.length === 0) return;
  const t0 = Date.now();
  let maxLoad = loadavg()[0];
  const sampler = setInterval(() => (maxLoad = Math.max(maxLoad, loadavg()[0])), LOAD_SAMPLE_MS);
  try {
    await phase(list, concurrency);
  } finally {
    clearInterval(sampler);
  }
  timings.push(`${name}: ${list.length} file(s) in ${Math.round((Date.now() - t0) / 1000)} s, 1-min load average up to ${maxLoad.toFixed(1)}`);
}

await timed('unit + integration', fast, PARALLEL_FILES);
await timed('lab, one file at a time', single, 1);
if (paired.length > 0) {
  process.env[LAB_CPU_ENV] = 'quiet';
  await timed('lab, quiet variants (no burners) side by side', paired, paired.length);
  delete process.env[SHARED_BURNERS_ENV]; // set in the runner's own environment: startBurners would hand back that set
  const burners = startBurners();
  // `finally` and the exit hook do not run when the runner is killed by a signal (CI cancelled, `timeout`): the
  // burners would spin on every core for good.
  const onSignal = (sig) => {
    burners.stop();
    process.kill(process.pid, sig);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(sig, onSignal);
  process.env[LAB_CPU_ENV] = 'busy';
  process.env[SHARED_BURNERS_ENV] = `${burners.pids.join(',')}@${burners.nice}`;
  try {
    await timed(`lab, busy variants side by side (${burners.count} burners at nice ${burners.nice})`, paired, paired.length);
  } finally {
    burners.stop();
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.off(sig, onSignal);
    delete process.env[LAB_CPU_ENV];
    delete process.env[SHARED_BURNERS_ENV];
  }
}
process.stdout.write(`\n${timings.join('\n')}\n`);
if (failures.length > 0) {
  process.stdout.write('\nFailed tests:\n' + failures.map((f) => `  ${f}`).join('\n') + '\n');
}
process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
