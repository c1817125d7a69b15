// Release gate: the staged tree, on its own Node (natively or under qemu), starts the daemon and answers /healthz.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Native start-to-ready is ~0.5 s; an arm64 tree under qemu-user on 2 shared cores needs far longer. */
const START_TIMEOUT_MS = 120_000;
/** Stop grace before SIGKILL (the daemon stops within 5 s natively). */
const STOP_TIMEOUT_MS = 20_000;

function get(url) {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/**
 * Runs `linkward run` from `tree` (argv prefix `run`, e.g. qemu) with probes and the cluster off, on an ephemeral
 * loopback port and a temp state dir; resolves { readyMs, health } once /healthz answers 200, else rejects.
 */
export async function checkStarts(tree, run = [], env = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'lw-release-check-'));
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    `server:\n  listen: 127.0.0.1:0\nstate:\n  dir: ${JSON.stringify(join(dir, 'state'))}\nprobes:\n  enabled: false\nkubernetes:\n  enabled: false\nlog:\n  level: info\n`,
  );
  const argv = [...run, join(tree, 'node'), join(tree, 'dist', 'linkward.mjs'), '--config', config, 'run'];
  const t0 = Date.now();
  const child = spawn(argv[0], argv.slice(1), {
    cwd: tree,
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((r) => child.on('exit', (code, sig) => r(code ?? sig)));
  let out = '';
  let err = '';
  child.stderr.on('data', (c) => (err += c));
  try {
    const address = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      let listen = '';
      child.stdout.on('data', (c) => {
        out += c;
        for (const line of out.split('\n')) {
          if (line.includes('"linkward listening"')) listen = JSON.parse(line).listen;
          if (line.includes('"linkward ready"') && listen) {
            clearTimeout(timer);
            resolve(listen);
          }
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`exited (${code}) before ready`));
      });
    });
    const readyMs = Date.now() - t0;
    const health = await get(`http://${address}/healthz`);
    if (health.status !== 200) throw new Error(`/healthz answered ${health.status}: ${health.body}`);
    return { readyMs, health: JSON.parse(health.body) };
  } catch (e) {
    throw new Error(`the staged tree does not start: ${e.message}\nstderr: ${err.slice(-2000)}\nstdout: ${out.slice(-2000)}`);
  } finally {
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(t);
    rmSync(dir, { recursive: true, force: true });
  }
}
