// Load generator child for bench:buffer --generator wrk: the same POSTs as buffer-load.mjs, sent by wrk (C, one thread), one JSON line out.
// Args: URL CLIENTS SECONDS SIZE LINES [WARMUP_SECONDS]. A first wrk run of WARMUP_SECONDS (default 1) is not counted
// ("WARM" is printed when it ends):
// the agent's first second (cold code, 64 connects) would otherwise be the slowest 1-2 % and so the p99. wrk keeps CLIENTS keep-alive connections with one request in flight on each;
// its own CPU use is read from /proc while it runs, so a saturated generator shows (cpuPct near 100).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [url, clientsArg, secondsArg, sizeArg, linesArg, warmupArg] = process.argv.slice(2);
const warmupSeconds = Number(warmupArg ?? 1);
const lines = Number(linesArg ?? 1);
// One JSON object of SIZE bytes per line (ingest validates ndjson), LINES lines per request: buffer-load.mjs's body.
const line = `{"p":"${'a'.repeat(Math.max(0, Number(sizeArg) - 9))}"}\n`;
const dir = mkdtempSync(join(tmpdir(), 'buffer-wrk-'));
const script = join(dir, 'post.lua');
writeFileSync(
  script,
  [
    'wrk.method = "POST"',
    `wrk.body = ${JSON.stringify(line.repeat(lines))}`,
    'wrk.headers["Content-Type"] = "application/x-ndjson"',
    'local non202 = 0',
    'response = function(status, headers, body) if status ~= 202 then non202 = non202 + 1 end end',
    'done = function(summary, latency, requests)',
    '  io.write(string.format("LW %d %d %d %d %d %d %d\\n", summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, non202))',
    'end',
  ].join('\n'),
);
/** CPU ticks of a process so far (utime + stime from /proc/PID/stat), or null once it is gone. */
const ticks = (pid) => {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return null;
  }
};
const wrk = (seconds) =>
  spawn('wrk', ['-t1', `-c${clientsArg}`, `-d${seconds}s`, '--timeout', '10s', '-s', script, url], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, LC_ALL: 'C' },
  });
if (warmupSeconds > 0) {
  const w = wrk(warmupSeconds);
  w.stdout.resume();
  await new Promise((r) => w.once('exit', r));
}
// The parent starts its server-side counters here.
process.stdout.write('WARM\n');
const p = wrk(Number(secondsArg));
let out = '';
p.stdout.on('data', (c) => {
  out += c;
});
let lastTicks = 0;
const poll = setInterval(() => {
  lastTicks = ticks(p.pid) ?? lastTicks;
}, 100);
const code = await new Promise((r) => p.once('exit', r));
clearInterval(poll);
rmSync(dir, { recursive: true, force: true });
const m = /^LW (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$/m.exec(out);
if (code !== 0 || m === null) {
  process.stderr.write(`wrk failed (exit ${code}):\n${out}\n`);
  process.exit(1);
}
const [requests, durationUs, p50Us, p99Us, maxUs, errors, non202] = m.slice(1).map(Number);
const seconds = durationUs / 1e6;
const ok = requests - non202;
process.stdout.write(
  JSON.stringify({
    ok,
    failed: errors + non202,
    lines,
    seconds,
    reqPerSec: ok / seconds,
    recPerSec: (ok * lines) / seconds,
    p50Ms: p50Us / 1000,
    p99Ms: p99Us / 1000,
    maxMs: maxUs / 1000,
    pipelining: 1,
    generator: 'wrk',
    // clock ticks are 1/100 s on Linux
    genCpuPct: lastTicks / seconds,
  }) + '\n',
);
