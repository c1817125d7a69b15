// Load generator child for bench:buffer — POSTs ndjson bodies of LINES records (each SIZE bytes, valid JSON) with N concurrent keep-alive clients, prints one JSON line.
// Args: URL CLIENTS SECONDS SIZE LINES [PIPELINING] [WARMUP_SECONDS] [RATE]; prints its own CPU use too, so a saturated
// generator shows (cpuPct near 100). The first WARMUP_SECONDS (default 1) run the same load uncounted (the agent's cold
// start); "WARM" is printed when they end. RATE > 0: an open loop at RATE requests/s in total (send times on a fixed
// schedule, latency counted from the scheduled time, so a server that falls behind shows it); 0: each client sends
// its next request when the last one was answered.
import { Pool } from 'undici';

const [url, clientsArg, secondsArg, sizeArg, linesArg, pipeArg, warmupArg, rateArg] = process.argv.slice(2);
const rate = Number(rateArg ?? 0);
const warmupMs = Number(warmupArg ?? 1) * 1000;
const clients = Number(clientsArg);
const durationMs = Number(secondsArg) * 1000;
const lines = Number(linesArg ?? 1);
/** Requests in flight per connection (undici pipelining); CLIENTS concurrent requests in total either way. */
const pipelining = Math.max(1, Number(pipeArg ?? 1));
// One JSON object of SIZE bytes per line (ingest validates ndjson), LINES lines per request.
const line = `{"p":"${'a'.repeat(Math.max(0, Number(sizeArg) - 9))}"}\n`;
const body = Buffer.from(line.repeat(lines));
const u = new URL(url);
const pool = new Pool(u.origin, { connections: Math.ceil(clients / pipelining), pipelining, keepAliveTimeout: 30_000 });
const latencies = [];
let ok = 0;
let failed = 0;
let end = 0;
/** Next scheduled send time (open loop only). */
let nextAt = 0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function client() {
  while (performance.now() < end) {
    let t0 = performance.now();
    if (rate > 0) {
      const at = Math.max(nextAt, t0 - 1000); // a generator stalled for over a second does not send a burst after it
      nextAt = at + 1000 / rate;
      if (at >= end) break;
      if (at > t0) await sleep(at - t0);
      t0 = at;
    }
    try {
      const r = await pool.request({ path: u.pathname, method: 'POST', body, headers: { 'content-type': 'application/x-ndjson' } });
      await r.body.dump();
      if (r.statusCode === 202) {
        ok++;
        latencies.push(performance.now() - t0);
      } else failed++;
    } catch {
      failed++;
    }
  }
}
if (warmupMs > 0) {
  nextAt = performance.now();
  end = nextAt + warmupMs;
  await Promise.all(Array.from({ length: clients }, client));
  latencies.length = 0;
  ok = 0;
  failed = 0;
}
// The parent starts its server-side counters here.
process.stdout.write('WARM\n');
const cpu0 = process.cpuUsage();
const t0 = performance.now();
nextAt = t0;
end = t0 + durationMs;
await Promise.all(Array.from({ length: clients }, client));
const secs = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
latencies.sort((a, b) => a - b);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? null;
await pool.close();
process.stdout.write(
  JSON.stringify({
    ok,
    failed,
    lines,
    seconds: secs,
    reqPerSec: ok / secs,
    recPerSec: (ok * lines) / secs,
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
    maxMs: latencies.at(-1) ?? null,
    pipelining,
    rate,
    genCpuPct: (cpu.user + cpu.system) / 1e4 / secs,
  }) + '\n',
);
