// bench:daemon-ingest — the built daemon (`dist/linkward.mjs run`, the unit's flags and environment) under single-record ingest.
// Usage: node scripts/bench/daemon-ingest.mjs [--entry dist/linkward.mjs] [--seconds 8] [--clients 64] [--runs 1] [--with-harness]
//        [--no-fast-path] the daemon with server.fastPath: false (every request through node:http)
//   Posts 200-byte ndjson records with the bearer token to /v1/ingest/app through wrk (Debian's `wrk`), after a 1-s
//   uncounted warm-up, and prints requests/s, p99 and the daemon's CPU µs per request (utime+stime from /proc). The sink's
//   upstream is a closed loopback port, so records stay buffered: the figure is ingest alone. bench:buffer measures the
//   buffer component behind the agent's HTTP server without the rest of the daemon; --with-harness runs its http phase
//   after each run, so the two are compared in the same minutes (a gap between them is cost the daemon adds).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serviceBaseEnv, unitEnv, unitFlags } from './unit-runtime.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const ENTRY = resolve(arg('entry', join(ROOT, 'dist', 'linkward.mjs')));
const SECONDS = Number(arg('seconds', 8));
const CLIENTS = Number(arg('clients', 64));
const RUNS = Number(arg('runs', 1));
const HARNESS = process.argv.includes('--with-harness');
const TOKEN = 'bench-daemon-ingest-0123456789';
/** The daemon's answer to /readyz is awaited this long (polled every 100 ms). */
const READY_WAIT_MS = 20_000;

/** A free loopback port (bound and released; the daemon takes it a moment later). */
function freePort() {
  return new Promise((res, rej) => {
    const s = createServer().once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (s.address());
      s.close(() => res(port));
    });
  });
}

/** utime + stime of a process, in clock ticks (100 per second on Linux). */
const cpuTicks = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]);
};

async function runOnce() {
  const dir = mkdtempSync(join(tmpdir(), 'lw-daemon-ingest-'));
  const port = await freePort();
  const config = join(dir, 'linkward.yaml');
  writeFileSync(
    config,
    [
      `server: { listen: "127.0.0.1:${port}", token: "${TOKEN}", fastPath: ${!process.argv.includes('--no-fast-path')} }`,
      `state: { dir: "${dir}" }`,
      'probes: { enabled: false }',
      'kubernetes: { enabled: false }',
      'sinks:',
      '  - { name: app, url: "http://127.0.0.1:9/write", protocol: ndjson }',
      '',
    ].join('\n'),
  );
  const child = spawn(process.execPath, [...unitFlags(), ENTRY, '--config', config, 'run'], {
    env: { ...serviceBaseEnv(), ...unitEnv() },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    const base = `http://127.0.0.1:${port}`;
    const until = Date.now() + READY_WAIT_MS;
    for (;;) {
      const ok = await fetch(`${base}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (Date.now() > until) throw new Error(`the daemon was not ready within ${READY_WAIT_MS} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const lua = join(dir, 'post.lua');
    const body = `{"p":"${'a'.repeat(191)}"}\n`;
    writeFileSync(
      lua,
      `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\nwrk.headers["Content-Type"] = "application/x-ndjson"\nwrk.headers["Authorization"] = "Bearer ${TOKEN}"\n`,
    );
    const url = `${base}/v1/ingest/app`;
    execFileSync('wrk', ['-t1', `-c${CLIENTS}`, '-d1s', '-s', lua, url], { stdio: 'ignore' });
    const load0 = loadavg()[0];
    const t0 = cpuTicks(child.pid);
    const out = execFileSync('wrk', ['-t1', `-c${CLIENTS}`, `-d${SECONDS}s`, '--latency', '--timeout', '10s', '-s', lua, url]).toString();
    const ticks = cpuTicks(child.pid) - t0;
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN);
    const failed = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
    const r = {
      bench: 'daemon-ingest',
      fastPath: !process.argv.includes('--no-fast-path'),
      clients: CLIENTS,
      reqPerSec: Math.round(rps),
      p99: /\s99%\s+(\S+)/.exec(out)?.[1] ?? null,
      failed,
      cpuUsPerRequest: Math.round((ticks * 10_000 * 10) / (rps * SECONDS)) / 10,
      load: [load0, loadavg()[0]],
    };
    process.stdout.write(`${JSON.stringify(r)}\n`);
    if (failed > 0) process.exitCode = 1;
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

for (let i = 0; i < RUNS; i++) {
  await runOnce();
  if (HARNESS) {
    const out = execFileSync(
      process.execPath,
      [
        join(ROOT, 'scripts', 'bench', 'buffer.mjs'),
        '--bundled',
        '--seconds',
        String(SECONDS),
        '--phases',
        'http',
        '--generator',
        'wrk',
        '--clients',
        String(CLIENTS),
      ],
      { encoding: 'utf8' },
    );
    const lines = out.trim().split('\n');
    process.stdout.write(`harness: ${lines.at(-2)}\nharness: ${lines.at(-1)}\n`);
  }
}
