// bench:buffer — telemetry buffer with synchronous=FULL: ingest over HTTP (concurrent clients) and direct, p99 ack, drain, RSS.
// Usage: node scripts/bench/buffer.mjs [--seconds 10] [--clients 64] [--direct 300000] [--drain 200000] [--size 200] [--writer-thread] [--bundled] [--inflight-bytes N]
//        [--node-flags "<flags>"] (default: LINKWARD_NODE_FLAGS of systemd/linkward.service; "" for none) [--smaps] [--phases direct,http,http100,drain-gzip,drain-none]
//        http100: requests of 100 ndjson records each. After each HTTP phase a `raw` phase commits the same records with plain
//        better-sqlite3 (same file pragmas, synchronous=FULL) in transactions of the phase's mean group size: the ratio column.
//        [--pipelining N] requests in flight per generator connection (default 1: CLIENTS connections). [--raw-per-request]
//        [--generator undici|wrk] who sends the load: undici in a Node process (default), or wrk (C, one thread; Debian's
//        `wrk` package), whose lower cost per request leaves the server's own bound visible on 2 cores. [--warmup S]
//        seconds of the same load before each HTTP phase's counted SECONDS (default 1; 0 for none), not in its figures.
//        [--gc] count garbage collections per phase (costs the server about 4 % under load). [--rate R] an open loop at
//        R requests/s (undici generator): memory and latency at a given load, e.g. a goal's rate, not at saturation.
//        also commits raw with one transaction per request (what ingest would cost without group commit).
//        [--no-fast-path] every request through node:http (server.fastPath: false), for an A/B of the server's fast path.
//        Every phase prints the load average at its start and end, the generator's CPU % and the server's.
//        Phase `fsync` (first by default): syncs per second of the disk under the temp dir, which bound commits per second.
//        [--bare] after each HTTP phase, a bare node:http server (reads the body, answers 202, nothing else) under the same
//        flags and generator: the VM's own bound on requests/s this minute, printed with the ratio (the VM's speed drifts
//        by 2x between hours; this says how much of the gap to a goal is linkward).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { closeSync, fdatasyncSync, fsyncSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { loadavg as osLoadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { Registry } from 'prom-client';
import { AgentBus } from '../../agent/runtime/bus.ts';
import { systemClock } from '../../agent/base/clock.ts';
import { serviceBaseEnv, unitEnv, unitFlags } from './unit-runtime.mjs';
import { AgentConfigSchema } from '../../agent/config/schema.ts';
import { startServer } from '../../agent/http/server.ts';
import { silentLogger } from '../../agent/base/log.ts';
import { createBufferComponent } from '../../buffer/component.ts';
import { realBufferDeps } from '../../buffer/adapters.ts';
import { openBufferDb } from '../../buffer/sqlite-open.ts';
import { SqliteStore } from '../../buffer/store-sqlite.ts';
import { gcCounter, memorySampler, smapsSummary, snapshot } from './buffer-mem.mjs';
import { mallocTrimEnabled, startMallocTrim } from '../../agent/runtime/malloc-trim.ts';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const strArg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? '') : def;
};
const SECONDS = arg('seconds', 10);
const CLIENTS = arg('clients', 64);
const DIRECT = arg('direct', 300_000);
const DRAIN = arg('drain', 200_000);
const SIZE = arg('size', 200);
const PIPELINING = arg('pipelining', 1);
const WARMUP = arg('warmup', 1);
/**
 * --gc: count garbage collections (a PerformanceObserver). Off by default: its callback ran on every scavenge and
 * took about 4 % of the server's samples under single-record load, a cost production does not have.
 */
const GC_STATS = process.argv.includes('--gc');
const gcStats = () => (GC_STATS ? gcCounter() : { read: () => ({}) });
/** --generator: the load generator child (undici in Node, or wrk). */
const GENERATOR = strArg('generator', 'undici');
if (!['undici', 'wrk'].includes(GENERATOR)) {
  process.stderr.write(`--generator must be undici or wrk, not ${GENERATOR}\n`);
  process.exit(2);
}
/**
 * --rate R: an open loop at R requests/s (undici generator), to measure memory and latency at a given load (for
 * example a goal's rate) instead of at saturation; 0 (default): closed loop, as fast as the server answers.
 */
const RATE = arg('rate', 0);
if (!(RATE >= 0) || (RATE > 0 && GENERATOR !== 'undici')) {
  process.stderr.write(`--rate must be a number >= 0 and needs --generator undici (wrk has no schedule), not ${RATE}\n`);
  process.exit(2);
}
/** 1/5/15-minute load averages, rounded: printed beside every phase (the machine is shared). */
const loadavg = () => osLoadavg().map((x) => Math.round(x * 100) / 100);
/** --inflight-bytes: buffer.maxInflightBytes (default: the config default). */
const INFLIGHT = arg('inflight-bytes', undefined);
/** --writer-thread: commit on the buffer's writer worker thread (buffer.commit.writerThread). */
const WRITER_THREAD = process.argv.includes('--writer-thread');
// Child scripts live next to the source even when this file runs from an esbuild bundle (--bundled).
const here = process.env.BUFFER_BENCH_DIR ?? new URL('.', import.meta.url).pathname;
const phaseIdx = process.argv.indexOf('--phase');
const PHASE = phaseIdx > 0 ? process.argv[phaseIdx + 1] : null;
const results = [];
/**
 * The daemon's malloc trimmer (agent/daemon.ts), from the addon npm ci built, in the phases that run the buffer
 * component: the bench measures what production runs. LINKWARD_MALLOC_TRIM=off for an A/B.
 */
const trimmer = (() => {
  if (!['direct', 'http', 'http100', 'drain-gzip', 'drain-none'].includes(PHASE ?? '') || !mallocTrimEnabled(process.env)) return null;
  try {
    const fn = createRequire(import.meta.url)(join(here, '..', '..', 'agent', 'native', 'build', 'Release', 'lw_native.node')).mallocTrim;
    return typeof fn === 'function' ? startMallocTrim(systemClock, fn) : null;
  } catch {
    return null;
  }
})();
/** Peak RSS of this phase process (the agent's side; load generator and receiver are other processes). */
const mem = memorySampler({ smaps: process.argv.includes('--smaps') });

/** Emits a result with the peak RSS of the phase that produced it (and what it was made of), then starts a new phase. */
const emit = (r) => {
  process.stdout.write(JSON.stringify({ ...r, ...mem.peak() }) + '\n');
  mem.reset();
};

function context(stateDir, sinkUrl, compression = 'auto') {
  const config = AgentConfigSchema.parse({
    sinks: [{ name: 'bench', url: sinkUrl, protocol: 'ndjson', compression }],
    buffer: {
      maxBytes: 4 * 1024 ** 3,
      maxRecordBytes: Math.max(4 * 1024 * 1024, SIZE),
      ...(INFLIGHT === undefined ? {} : { maxInflightBytes: INFLIGHT }),
      retry: { baseMs: 600_000, capMs: 600_000 },
      commit: { writerThread: WRITER_THREAD },
    },
  });
  return {
    config,
    log: silentLogger(),
    clock: systemClock,
    metrics: new Registry(),
    bus: new AgentBus(),
    stateDir,
    stateDb: new Database(':memory:'),
    nodeName: 'bench',
  };
}

/** The agent's own HTTP server (agent/http/server.ts: timeouts, routing, dispatch) serving the component's routes. */
async function serve(routes, metrics) {
  const log = silentLogger();
  return startServer('127.0.0.1:0', {
    log,
    metrics,
    token: undefined,
    health: () => ({ ok: true, reasons: [] }),
    notReadyReasons: () => [],
    status: () => ({}),
    page: () => '',
    routes: () => routes,
    nowMs: () => Date.now(),
    fastPath: !process.argv.includes('--no-fast-path'),
  });
}

/**
 * The measured server phases start with the service's environment (serviceBaseEnv: not this shell's, whose
 * NODE_EXTRA_CA_CERTS alone costs OpenSSL heap), plus the caller's LINKWARD_*, MALLOC_* and UV_* switches for A/B runs.
 */
function serviceEnv() {
  const passed = Object.entries(process.env).filter(([k]) => /^(LINKWARD_|MALLOC_|UV_)/.test(k));
  return { ...serviceBaseEnv(), ...Object.fromEntries(passed) };
}

function child(script, args, flags = [], env = {}, base = process.env) {
  const path = script.startsWith('/') ? script : join(here, script);
  const p = spawn(process.execPath, [...flags, path, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...base, ...env, BUFFER_BENCH_DIR: here },
  });
  let out = '';
  p.stdout.on('data', (c) => {
    out += c;
  });
  return { p, out: () => out, done: new Promise((r) => p.once('exit', () => r(out))) };
}

/** Group commits so far and the seconds they took (the agent's own histogram). */
async function commitTotals(reg) {
  const m = (await reg.getSingleMetric('linkward_buffer_commit_duration_seconds').get()).values;
  return {
    count: m.find((v) => v.metricName.endsWith('_count'))?.value ?? 0,
    sum: m.find((v) => v.metricName.endsWith('_sum'))?.value ?? 0,
  };
}

/** Commits between two commitTotals readings, and their mean duration. */
function commitStats(a, b) {
  const count = b.count - a.count;
  return { commits: count, meanCommitMs: count ? ((b.sum - a.sum) / count) * 1000 : null };
}

const body = Buffer.alloc(SIZE, 0x62);
const FLAGS = strArg('node-flags', null);

// Without --phase: run each phase in its own process (so RSS is per phase), then print the table.
// --bundled: phases run from an esbuild bundle, the shape production runs (dist/linkward.mjs), so RSS is comparable.
if (PHASE === null) {
  const flags = FLAGS === null ? unitFlags() : FLAGS.split(/\s+/).filter(Boolean);
  const passthrough = process.argv.slice(2);
  let entry = join(here, 'buffer.mjs');
  if (process.argv.includes('--bundled')) {
    const { build } = await import('esbuild');
    const { leanDepsPlugin } = await import('../build-lean-deps.mjs');
    // Inside node_modules so the external better-sqlite3 resolves; .cache is never committed.
    entry = join(here, '../../node_modules/.cache/linkward-bench/buffer-bench.mjs');
    await build({
      entryPoints: [join(here, 'buffer.mjs')],
      outfile: entry,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node24',
      external: ['better-sqlite3', 'esbuild'],
      // undici as the shipped bundle has it (scripts/build.mjs), so RSS and CPU are what production sees
      plugins: [leanDepsPlugin(join(here, '..', '..'))],
      logLevel: 'warning',
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    });
  }
  const meta = { bench: 'flags', nodeFlags: flags, bundled: process.argv.includes('--bundled') };
  results.push(meta);
  process.stdout.write(JSON.stringify(meta) + '\n');
  const runPhase = async (phase, extra = []) => {
    const c = child(entry, [...passthrough, ...extra, '--phase', phase], flags, FLAGS === null ? unitEnv() : {}, serviceEnv());
    c.p.stdout.on('data', (d) => process.stdout.write(d));
    const out = [];
    for (const line of (await c.done).split('\n')) if (line.startsWith('{')) out.push(JSON.parse(line));
    results.push(...out);
    return out;
  };
  for (const phase of strArg('phases', 'fsync,direct,http,http100,drain-gzip,drain-none').split(',')) {
    const out = await runPhase(phase);
    const r = out.find((x) => x.bench?.startsWith('ingest'));
    // The same bytes committed by raw better-sqlite3, in transactions of the records the agent grouped per commit.
    if (r && r.commits > 0)
      await runPhase('raw', ['--batch', String(Math.max(1, Math.round(r.records / r.commits))), '--lines', String(r.lines ?? 1), '--for', r.bench]);
    if (r && process.argv.includes('--raw-per-request'))
      await runPhase('raw', ['--batch', '1', '--lines', String(r.lines ?? 1), '--for', `${r.bench}/request`]);
    if (r?.bench.startsWith('ingest-http') && process.argv.includes('--bare')) await runPhase('bare', ['--lines', String(r.lines ?? 1), '--for', r.bench]);
  }
}

// 0. The disk's sync rate: a 4 KiB overwrite + fdatasync (the ledger's pattern) and an append + fsync (the WAL's), 2 s each.
if (PHASE === 'fsync') {
  const dir = mkdtempSync(join(tmpdir(), 'buffer-bench-'));
  const page = Buffer.alloc(4096, 1);
  const rate = (sync, append) => {
    const fd = openSync(join(dir, 'f'), 'w+');
    const lat = [];
    const end = performance.now() + 2000;
    while (performance.now() < end) {
      const t = performance.now();
      writeSync(fd, page, 0, page.length, append ? lat.length * 4096 : 0);
      sync(fd);
      lat.push(performance.now() - t);
    }
    closeSync(fd);
    lat.sort((a, b) => a - b);
    return { perSec: lat.length / 2, p50Ms: lat[lat.length >> 1], p99Ms: lat[Math.floor(lat.length * 0.99)] };
  };
  const loadStart = loadavg();
  emit({ bench: 'fsync', overwrite: rate(fdatasyncSync, false), append: rate(fsyncSync, true), loadStart, loadEnd: loadavg() });
  rmSync(dir, { recursive: true, force: true });
}

// 1. Direct in-process API.
if (PHASE === 'direct') {
  const dir = mkdtempSync(join(tmpdir(), 'buffer-bench-'));
  const ctx = context(dir, 'http://127.0.0.1:9/none');
  const comp = createBufferComponent(ctx, realBufferDeps(ctx));
  await comp.start();
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const gc = gcStats();
  // 5,000 records in flight: five full group commits, the most a busy agent plausibly has pending.
  const WAVE = 5_000;
  const t0 = performance.now();
  for (let done = 0; done < DIRECT; done += WAVE) {
    const n = Math.min(WAVE, DIRECT - done);
    await Promise.all(Array.from({ length: n }, () => comp.service.appendBody('bench', body, { contentType: 'application/x-ndjson' })));
  }
  const secs = (performance.now() - t0) / 1000;
  loop.disable();
  emit({
    bench: 'ingest-direct',
    writerThread: WRITER_THREAD,
    records: DIRECT,
    seconds: secs,
    recPerSec: DIRECT / secs,
    eventLoopP99Ms: loop.percentile(99) / 1e6,
    ...gc.read(),
    ...commitStats({ count: 0, sum: 0 }, await commitTotals(ctx.metrics)),
  });
  await comp.stop();
  rmSync(dir, { recursive: true, force: true });
}

// 2. HTTP loopback, concurrent clients in a separate process (http100: 100 ndjson records per request).
if (PHASE === 'http' || PHASE === 'http100') {
  const LINES = PHASE === 'http100' ? 100 : 1;
  const dir = mkdtempSync(join(tmpdir(), 'buffer-bench-'));
  const ctx = context(dir, 'http://127.0.0.1:9/none');
  const comp = createBufferComponent(ctx, realBufferDeps(ctx));
  await comp.start();
  // What load puts in memory: records waiting for a group commit and ingest bodies held (buffer.maxInflightBytes),
  // sampled at each commit; the routes are served unwrapped, as in production.
  let maxQueued = 0;
  let maxHeldKiB = 0;
  const committer = comp.service.committer;
  const flush = committer.flush.bind(committer);
  committer.flush = () => {
    maxQueued = Math.max(maxQueued, committer.pending);
    maxHeldKiB = Math.max(maxHeldKiB, (comp.service.inflight?.used ?? 0) / 1024);
    flush();
  };
  const routes = comp.routes();
  const server = await serve(routes, ctx.metrics);
  await new Promise((r) => setTimeout(r, 500));
  const idleRssMB = Math.round(process.memoryUsage().rss / 1048576);
  const idle = process.argv.includes('--smaps') ? { ...snapshot(), smapsMB: smapsSummary() } : undefined;
  mem.reset();
  // Server-side counters cover the counted seconds only: they start when the generator says its warm-up ended.
  /** @type {{ loop: ReturnType<typeof monitorEventLoopDelay>, gc: { read(): object }, cpu0: NodeJS.CpuUsage, commits0: { count: number, sum: number } } | null} */
  let counting = null;
  const startCounting = async () => {
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    counting = { loop, gc: gcStats(), cpu0: process.cpuUsage(), commits0: await commitTotals(ctx.metrics) };
  };
  if (WARMUP <= 0) await startCounting();
  // Open keep-alive connections: one request in flight on each at most (the load generator does not pipeline).
  let connections = 0;
  const connTimer = setInterval(
    () =>
      server.server.getConnections((e, n) => {
        if (!e) connections = Math.max(connections, n);
      }),
    200,
  );
  const loadStart = loadavg();
  const target = `http://${server.address}/v1/ingest/bench`;
  const c =
    GENERATOR === 'wrk'
      ? child('buffer-wrk.mjs', [target, String(CLIENTS), String(SECONDS), String(SIZE), String(LINES), String(WARMUP)])
      : child('buffer-load.mjs', [target, String(CLIENTS), String(SECONDS), String(SIZE), String(LINES), String(PIPELINING), String(WARMUP), String(RATE)]);
  /** @type {Promise<void> | null} */
  let started = null;
  c.p.stdout.on('data', () => {
    if (started === null && counting === null && /^WARM$/m.test(c.out())) started = startCounting();
  });
  const load = JSON.parse((await c.done).trim().split('\n').pop());
  await started;
  if (counting === null) throw new Error('the load generator never reported the end of its warm-up');
  const { loop, gc, cpu0, commits0 } = counting;
  const cpu = process.cpuUsage(cpu0);
  loop.disable();
  clearInterval(connTimer);
  const fileMB = (f) => {
    try {
      return Math.round(statSync(join(dir, f)).size / 1e5) / 10;
    } catch {
      return 0;
    }
  };
  emit({
    bench: PHASE === 'http' ? 'ingest-http' : 'ingest-http100',
    mallocTrim: trimmer?.stats() ?? null,
    writerThread: WRITER_THREAD,
    fastPath: server.fast === null ? null : { served: server.fast.served, handedOff: server.fast.handedOff },
    idleRssMB,
    clients: CLIENTS,
    generator: GENERATOR,
    lines: LINES,
    records: load.ok,
    failed: load.failed,
    seconds: load.seconds,
    reqPerSec: load.reqPerSec,
    recPerSec: load.recPerSec,
    ackP50Ms: load.p50Ms,
    ackP99Ms: load.p99Ms,
    ackMaxMs: load.maxMs,
    eventLoopP99Ms: loop.percentile(99) / 1e6,
    stored: comp.service.store.usage().records,
    connections,
    maxQueued,
    maxHeldKiB,
    dbMB: fileMB('buffer.db'),
    walMB: fileMB('buffer.db-wal'),
    serverCpuUsPerRec: (cpu.user + cpu.system) / Math.max(1, load.ok),
    serverCpuPct: (cpu.user + cpu.system) / 1e4 / load.seconds,
    genCpuPct: load.genCpuPct,
    pipelining: load.pipelining,
    rate: RATE,
    loadStart,
    loadEnd: loadavg(),
    ...gc.read(),
    ...commitStats(commits0, await commitTotals(ctx.metrics)),
    idle,
  });
  await server.close();
  await comp.stop();
  rmSync(dir, { recursive: true, force: true });
}

// 2b. Raw better-sqlite3 baseline: the same rows (one per request, LINES lines each) in transactions of --batch rows.
if (PHASE === 'raw') {
  const batch = arg('batch', 1);
  const lines = arg('lines', 1);
  const dir = mkdtempSync(join(tmpdir(), 'buffer-bench-'));
  const { db } = openBufferDb(join(dir, 'buffer.db'), Date.now());
  const insert = db.prepare(
    'INSERT INTO buf_records (sink, priority, created_ms, expires_ms, content_type, content_encoding, body, size, batch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)',
  );
  const row = Buffer.from(`{"p":"${'a'.repeat(Math.max(0, SIZE - 9))}"}\n`.repeat(lines));
  const tx = db.transaction((n) => {
    for (let i = 0; i < n; i++) insert.run('bench', 1, Date.now(), null, 'application/x-ndjson', null, row, row.length);
  });
  const loadStart = loadavg();
  const end = performance.now() + SECONDS * 1000;
  let rows = 0;
  const t0 = performance.now();
  while (performance.now() < end) {
    tx(batch);
    rows += batch;
  }
  const secs = (performance.now() - t0) / 1000;
  emit({
    bench: 'raw-sqlite',
    for: strArg('for', ''),
    batch,
    lines,
    rows,
    seconds: secs,
    reqPerSec: rows / secs,
    recPerSec: (rows * lines) / secs,
    loadStart,
    loadEnd: loadavg(),
  });
  db.close();
  rmSync(dir, { recursive: true, force: true });
}

// 2c. Bare node:http: the same requests read and answered 202 with nothing else (no validation, no SQLite, no ledger).
if (PHASE === 'bare') {
  const { createServer } = await import('node:http');
  let n = 0;
  const server = createServer((req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => {
      const text = JSON.stringify({ id: ++n });
      res.writeHead(202, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', () => r(undefined)));
  const target = `http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (server.address()).port}/v1/ingest/bench`;
  const lines = arg('lines', 1);
  const loadStart = loadavg();
  const c =
    GENERATOR === 'wrk'
      ? child('buffer-wrk.mjs', [target, String(CLIENTS), String(SECONDS), String(SIZE), String(lines), String(WARMUP)])
      : child('buffer-load.mjs', [target, String(CLIENTS), String(SECONDS), String(SIZE), String(lines), String(PIPELINING), String(WARMUP), String(RATE)]);
  const load = JSON.parse((await c.done).trim().split('\n').pop());
  emit({
    bench: 'bare-http',
    for: strArg('for', ''),
    lines,
    reqPerSec: load.reqPerSec,
    recPerSec: load.recPerSec,
    ackP99Ms: load.p99Ms,
    loadStart,
    loadEnd: loadavg(),
  });
  server.close();
}

// 3a. Fill a buffer file with a backlog (own process, so its memory does not count against the drain phase).
if (PHASE === 'prefill') {
  const dir = strArg('dir', '');
  const pre = new SqliteStore(openBufferDb(join(dir, 'buffer.db'), Date.now()).db);
  const rec = { sink: 'bench', priority: 1, createdMs: Date.now(), expiresMs: null, contentType: 'application/x-ndjson', contentEncoding: null, body };
  for (let done = 0; done < DRAIN; done += 10_000) pre.appendMany(Array.from({ length: Math.min(10_000, DRAIN - done) }, () => rec));
  pre.close();
}

// 3b. Drain that backlog to a local receiver (separate process), merged ndjson batches, gzip or uncompressed.
if (PHASE === 'drain-gzip' || PHASE === 'drain-none') {
  const compression = PHASE === 'drain-gzip' ? 'auto' : 'none';
  const dir = mkdtempSync(join(tmpdir(), 'buffer-bench-'));
  await child(process.argv[1], ['--phase', 'prefill', '--dir', dir, '--drain', String(DRAIN), '--size', String(SIZE)]).done;
  const rx = child('buffer-sink.mjs', []);
  while (!/READY (\d+)/.test(rx.out())) await new Promise((r) => setTimeout(r, 20));
  const port = /READY (\d+)/.exec(rx.out())[1];
  const ctx = context(dir, `http://127.0.0.1:${port}/ingest`, compression);
  const comp = createBufferComponent(ctx, realBufferDeps(ctx));
  mem.reset();
  const t0 = performance.now();
  await comp.start();
  while (comp.service.store.usage().records > 0) await new Promise((r) => setTimeout(r, 10));
  const secs = (performance.now() - t0) / 1000;
  rx.p.kill('SIGTERM');
  const sink = JSON.parse((await rx.done).trim().split('\n').pop());
  emit({
    bench: 'drain',
    compression: compression === 'auto' ? 'gzip' : 'none',
    records: DRAIN,
    seconds: secs,
    recPerSec: DRAIN / secs,
    requests: sink.requests,
    wireMB: sink.bytes / 1e6,
  });
  await comp.stop();
  rmSync(dir, { recursive: true, force: true });
}

mem.stop();
if (PHASE !== null) process.exit(0);
process.stdout.write(
  JSON.stringify({ bench: 'meta', node: process.version, cpus: (await import('node:os')).cpus().length, loadavg: (await import('node:os')).loadavg() }) + '\n',
);
const f = (n, d = 0) => (n === null || n === undefined ? '-' : Number(n).toFixed(d));
const raw = (name) => results.find((r) => r.bench === 'raw-sqlite' && r.for === name);
const perReq = (name) => results.find((r) => r.bench === 'raw-sqlite' && r.for === `${name}/request`);
const bare = (name) => results.find((r) => r.bench === 'bare-http' && r.for === name);
const la = (r) => (r.loadStart ? ` load ${r.loadStart[0].toFixed(2)}→${r.loadEnd[0].toFixed(2)}` : '');
process.stdout.write(
  '\n' +
    [
      `node flags: ${results.find((r) => r.bench === 'flags')?.nodeFlags.join(' ') || '(none)'}`,
      'bench            requests/s  records/s   p99 ack ms  loop p99 ms  commits  mean commit ms  peak RSS MB (VmHWM)  raw better-sqlite3 same batches (ratio)',
      ...results
        .filter((r) => r.bench.startsWith('ingest'))
        .map(
          (r) =>
            `${r.bench.padEnd(16)} ${f(r.reqPerSec ?? r.recPerSec).padStart(10)}  ${f(r.recPerSec).padStart(9)}   ${f(r.ackP99Ms, 1).padStart(10)}  ${f(r.eventLoopP99Ms, 1).padStart(11)}  ${f(r.commits).padStart(7)}  ${f(r.meanCommitMs, 2).padStart(14)}  ${f(r.peakRssMB).padStart(11)} (${f(r.vmHwmMB)})${r.idleRssMB ? `, idle ${r.idleRssMB}` : ''}${raw(r.bench) ? `  ${f(raw(r.bench).recPerSec)} rec/s in ${raw(r.bench).batch}-row transactions (${f(r.recPerSec / raw(r.bench).recPerSec, 2)})${la(raw(r.bench))}` : ''}${perReq(r.bench) ? `; 1 tx/request ${f(perReq(r.bench).recPerSec)} rec/s (${f(r.recPerSec / perReq(r.bench).recPerSec, 2)})` : ''}${bare(r.bench) ? `; bare node:http ${f(bare(r.bench).reqPerSec)} req/s (${f(r.reqPerSec / bare(r.bench).reqPerSec, 2)})` : ''}`,
        ),
      ...results
        .filter((r) => r.bench.startsWith('ingest-http'))
        .map(
          (r) =>
            `${r.bench.padEnd(16)} records ${r.records}, ${r.lines} per request, ${r.clients} clients (${r.generator ?? 'undici'}, pipelining ${r.pipelining}${r.rate ? `, open loop at ${r.rate} req/s` : ''}), server CPU ${f(r.serverCpuPct)} % (${f(r.serverCpuUsPerRec, 1)} µs/request), generator CPU ${f(r.genCpuPct)} %, ${f(r.records / Math.max(1, r.commits), 1)} requests/commit, ${r.fastPath ? `fast path ${r.fastPath.served} served, ${r.fastPath.handedOff} handed off` : 'fast path off'},${la(r)}`,
        ),
      ...results
        .filter((r) => r.bench === 'fsync')
        .map(
          (r) =>
            `disk syncs       ${f(r.overwrite.perSec)}/s overwrite+fdatasync (p50 ${f(r.overwrite.p50Ms, 2)} ms, p99 ${f(r.overwrite.p99Ms, 2)}), ${f(r.append.perSec)}/s append+fsync (p50 ${f(r.append.p50Ms, 2)}, p99 ${f(r.append.p99Ms, 2)}),${la(r)}`,
        ),
      ...results
        .filter((r) => r.bench === 'drain')
        .map(
          (r) =>
            `drain (${r.compression.padEnd(4)})    ${f(r.recPerSec).padStart(9)}   requests ${r.requests}, ${f(r.wireMB, 1)} MB on the wire, peak RSS ${f(r.peakRssMB)} MB (VmHWM ${f(r.vmHwmMB)})`,
        ),
    ].join('\n') +
    '\n',
);
