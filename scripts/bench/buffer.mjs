// bench:buffer — telemetry buffer with synchronous=FULL: ingest over HTTP (concurrent clients) and direct, p99 ack, drain, RSS.
// Usage: node scripts/bench/buffer.mjs [--seconds 10] [--clients 64] [--direct 300000] [--drain 200000] [--size 200] [--writer-thread] [--bundled]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { Registry } from 'prom-client';
import { AgentBus } from '../../agent/bus.ts';
import { systemClock } from '../../agent/clock.ts';
import { AgentConfigSchema } from '../../agent/config/schema.ts';
import { silentLogger } from '../../agent/log.ts';
import { createBufferComponent } from '../../buffer/component.ts';
import { openBufferDb } from '../../buffer/sqlite-open.ts';
import { retain } from '../../buffer/sqlite-retain.ts';
import { SqliteStore } from '../../buffer/store-sqlite.ts';

const arg = (name, def) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? Number(process.argv[i + 1]) : def; };
const SECONDS = arg('seconds', 10);
const CLIENTS = arg('clients', 64);
const DIRECT = arg('direct', 300_000);
const DRAIN = arg('drain', 200_000);
const SIZE = arg('size', 200);
/** --writer-thread: commit on the buffer's writer worker thread (buffer.commit.writerThread). */
const WRITER_THREAD = process.argv.includes('--writer-thread');
// Child scripts live next to the source even when this file runs from an esbuild bundle (--bundled).
const here = process.env.BUFFER_BENCH_DIR ?? new URL('.', import.meta.url).pathname;
const phaseIdx = process.argv.indexOf('--phase');
const PHASE = phaseIdx > 0 ? process.argv[phaseIdx + 1] : null;
const results = [];
let maxRss = 0;
/** Emits a result with the peak RSS of the phase that produced it, then starts a new phase. */
const emit = (r) => { const row = { ...r, peakRssMB: Math.round(Math.max(maxRss, process.memoryUsage().rss) / 1048576) }; process.stdout.write(JSON.stringify(row) + '\n'); maxRss = 0; };

function context(stateDir, sinkUrl, compression = 'auto') {
  const config = AgentConfigSchema.parse({
    sinks: [{ name: 'bench', url: sinkUrl, protocol: 'ndjson', compression }],
    buffer: { maxBytes: 4 * 1024 ** 3, retry: { baseMs: 600_000, capMs: 600_000 }, commit: { writerThread: WRITER_THREAD } },
  });
  return { config, log: silentLogger(), clock: systemClock, metrics: new Registry(), bus: new AgentBus(), stateDir, stateDb: retain(new Database(':memory:')), nodeName: 'bench' };
}

function serve(routes) {
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const r = routes.find((x) => x.method === req.method && (x.prefix ? url.pathname.startsWith(x.path) : url.pathname === x.path));
    if (!r) { res.writeHead(404); res.end(); return; }
    Promise.resolve(r.handle(req, res, url)).catch(() => { res.writeHead(500); res.end(); });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function child(script, args) {
  const path = script.startsWith('/') ? script : join(here, script);
  const p = spawn(process.execPath, [path, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BUFFER_BENCH_DIR: here } });
  let out = '';
  p.stdout.on('data', (c) => { out += c; });
  return { p, out: () => out, done: new Promise((r) => p.once('exit', () => r(out))) };
}

async function commitStats(reg) {
  const m = (await reg.getSingleMetric('linkward_buffer_commit_duration_seconds').get()).values;
  const count = m.find((v) => v.metricName.endsWith('_count'))?.value ?? 0;
  const sum = m.find((v) => v.metricName.endsWith('_sum'))?.value ?? 0;
  return { commits: count, meanCommitMs: count ? (sum / count) * 1000 : null };
}

const body = Buffer.alloc(SIZE, 0x62);
const rssTimer = setInterval(() => { maxRss = Math.max(maxRss, process.memoryUsage().rss); }, 100);

// Without --phase: run each phase in its own process (so RSS is per phase), then print the table.
// --bundled: phases run from an esbuild bundle, the shape production runs (dist/linkward.mjs), so RSS is comparable.
if (PHASE === null) {
  const passthrough = process.argv.slice(2);
  let entry = join(here, 'buffer.mjs');
  if (process.argv.includes('--bundled')) {
    const { build } = await import('esbuild');
    // Inside node_modules so the external better-sqlite3 resolves; .cache is never committed.
    entry = join(here, '../../node_modules/.cache/linkward-bench/buffer-bench.mjs');
    await build({ entryPoints: [join(here, 'buffer.mjs')], outfile: entry, bundle: true, platform: 'node', format: 'esm', target: 'node24', external: ['better-sqlite3', 'esbuild'], logLevel: 'warning',
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" } });
  }
  for (const phase of ['direct', 'http', 'drain']) {
    const c = child(entry, [...passthrough, '--phase', phase]);
    c.p.stdout.on('data', (d) => process.stdout.write(d));
    for (const line of (await c.done).split('\n')) if (line.startsWith('{')) results.push(JSON.parse(line));
  }
}

// 1. Direct in-process API.
if (PHASE === 'direct') {
  const dir = mkdtempSync(join(tmpdir(), 'buffer-bench-'));
  const ctx = context(dir, 'http://127.0.0.1:9/none');
  const comp = createBufferComponent(ctx);
  await comp.start();
  const loop = monitorEventLoopDelay({ resolution: 5 }); loop.enable();
  // 5,000 records in flight: five full group commits, the most a busy agent plausibly has pending.
  const WAVE = 5_000;
  const t0 = performance.now();
  for (let done = 0; done < DIRECT; done += WAVE) {
    const n = Math.min(WAVE, DIRECT - done);
    await Promise.all(Array.from({ length: n }, () => comp.service.appendBody('bench', body, { contentType: 'application/x-ndjson' })));
  }
  const secs = (performance.now() - t0) / 1000;
  loop.disable();
  emit({ bench: 'ingest-direct', writerThread: WRITER_THREAD, records: DIRECT, seconds: secs, recPerSec: DIRECT / secs, eventLoopP99Ms: loop.percentile(99) / 1e6, ...(await commitStats(ctx.metrics)) });
  await comp.stop();
  rmSync(dir, { recursive: true, force: true });
}

// 2. HTTP loopback, concurrent clients in a separate process.
if (PHASE === 'http') {
  const dir = mkdtempSync(join(tmpdir(), 'buffer-bench-'));
  const ctx = context(dir, 'http://127.0.0.1:9/none');
  const comp = createBufferComponent(ctx);
  await comp.start();
  const server = await serve(comp.routes());
  const idleRssMB = Math.round(process.memoryUsage().rss / 1048576);
  const loop = monitorEventLoopDelay({ resolution: 5 }); loop.enable();
  const c = child('buffer-load.mjs', [`http://127.0.0.1:${server.address().port}/v1/ingest/bench`, String(CLIENTS), String(SECONDS), String(SIZE)]);
  const load = JSON.parse((await c.done).trim().split('\n').pop());
  loop.disable();
  emit({ bench: 'ingest-http', writerThread: WRITER_THREAD, idleRssMB, clients: CLIENTS, records: load.ok, failed: load.failed, seconds: load.seconds, recPerSec: load.recPerSec, ackP50Ms: load.p50Ms, ackP99Ms: load.p99Ms, ackMaxMs: load.maxMs, eventLoopP99Ms: loop.percentile(99) / 1e6, stored: comp.service.store.usage().records, ...(await commitStats(ctx.metrics)) });
  server.close();
  await comp.stop();
  rmSync(dir, { recursive: true, force: true });
}

// 3. Drain a backlog to a local receiver (separate process), gzip-merged ndjson batches.
for (const compression of PHASE === 'drain' ? ['auto', 'none'] : []) {
  const dir = mkdtempSync(join(tmpdir(), 'buffer-bench-'));
  const pre = new SqliteStore(openBufferDb(join(dir, 'buffer.db'), Date.now()).db);
  const rec = { sink: 'bench', priority: 1, createdMs: Date.now(), expiresMs: null, contentType: 'application/x-ndjson', contentEncoding: null, body };
  for (let done = 0; done < DRAIN; done += 10_000) pre.appendMany(Array.from({ length: Math.min(10_000, DRAIN - done) }, () => rec));
  pre.close();
  const rx = child('buffer-sink.mjs', []);
  while (!/READY (\d+)/.test(rx.out())) await new Promise((r) => setTimeout(r, 20));
  const port = /READY (\d+)/.exec(rx.out())[1];
  const ctx = context(dir, `http://127.0.0.1:${port}/ingest`, compression);
  const comp = createBufferComponent(ctx);
  const t0 = performance.now();
  await comp.start();
  while (comp.service.store.usage().records > 0) await new Promise((r) => setTimeout(r, 10));
  const secs = (performance.now() - t0) / 1000;
  rx.p.kill('SIGTERM');
  const sink = JSON.parse((await rx.done).trim().split('\n').pop());
  emit({ bench: 'drain', compression: compression === 'auto' ? 'gzip' : 'none', records: DRAIN, seconds: secs, recPerSec: DRAIN / secs, requests: sink.requests, wireMB: sink.bytes / 1e6 });
  await comp.stop();
  rmSync(dir, { recursive: true, force: true });
}

clearInterval(rssTimer);
if (PHASE !== null) process.exit(0);
process.stdout.write(JSON.stringify({ bench: 'meta', node: process.version, cpus: (await import('node:os')).cpus().length, loadavg: (await import('node:os')).loadavg() }) + '\n');
const f = (n, d = 0) => (n === null || n === undefined ? '-' : Number(n).toFixed(d));
process.stdout.write('\n' + [
  'bench           records/s   p99 ack ms  loop p99 ms  commits  mean commit ms  peak RSS MB',
  ...results.filter((r) => r.bench.startsWith('ingest')).map((r) => `${r.bench.padEnd(15)} ${f(r.recPerSec).padStart(9)}   ${f(r.ackP99Ms, 1).padStart(10)}  ${f(r.eventLoopP99Ms, 1).padStart(11)}  ${f(r.commits).padStart(7)}  ${f(r.meanCommitMs, 2).padStart(14)}  ${f(r.peakRssMB).padStart(11)}`),
  ...results.filter((r) => r.bench === 'drain').map((r) => `drain (${r.compression.padEnd(4)})    ${f(r.recPerSec).padStart(9)}   requests ${r.requests}, ${f(r.wireMB, 1)} MB on the wire, peak RSS ${r.peakRssMB} MB`),
].join('\n') + '\n');
