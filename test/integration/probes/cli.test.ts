/** Integration: `linkward probe` and `linkward probe-server` as real processes on loopback (JSON contract, exit codes, safety). */
import { test, after } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { execPath } from 'node:process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../support/probes-cli.ts', import.meta.url));
/** An empty config file, so the host's /etc/linkward/config.yaml never leaks into the test. */
const DIR = mkdtempSync(join(tmpdir(), 'lwp-cli-'));
writeFileSync(join(DIR, 'config.yaml'), '{}\n');
after(() => rmSync(DIR, { recursive: true, force: true }));
const ENV = { ...process.env, LINKWARD_CONFIG: join(DIR, 'config.yaml'), LINKWARD_PROBE_TOKEN: '' };

function runCli(args: string[], env: NodeJS.ProcessEnv = ENV): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(execPath, [CLI, ...args], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test('probe --json against probe-server: stable field names, progress on stderr', async (t) => {
  const srv = spawn(execPath, [CLI, 'probe-server', '--listen', '127.0.0.1:0', '--token', 'cli-token-0123456789abc'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => srv.kill('SIGTERM'));
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`probe-server did not start: ${buf}`)), 15_000);
    srv.stderr.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
  const env = { ...ENV, LINKWARD_PROBE_TOKEN: 'cli-token-0123456789abc' };
  const r = await runCli(['probe', '--target', `http://127.0.0.1:${port}/`, '--json', '--max-bytes', '3000000'], env);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as Record<string, unknown>;
  for (const k of ['downloadMbps', 'uploadMbps', 'rttMs', 'jitterMs', 'lossPercent', 'bytesUsed', 'downloadSetAside', 'uploadSetAside'])
    assert.ok(k in j, `field ${k}`);
  // Loopback runs as fast as a CPU can copy, so a figure may be set aside as cpu_bound; it is never left unexplained.
  for (const k of ['downloadSetAside', 'uploadSetAside'] as const) {
    const a = j[k] as { reason: string; detail?: string } | null;
    t.diagnostic(`${k}: ${JSON.stringify(a)}`);
    if (a) assert.ok(['starved', 'cpu_bound', 'stalled'].includes(a.reason) && a.detail, JSON.stringify(a));
  }
  assert.ok((j.downloadMbps as number) > 1 && (j.uploadMbps as number) > 1);
  assert.equal(j.lossPercent, 0);
  assert.ok((j.bytesUsed as number) > 0 && (j.bytesUsed as number) < 2 * 3_300_000);
  assert.match(r.stderr, /download|upload/);
  const human = await runCli(['probe', '--target', `http://127.0.0.1:${port}/`, '--download', '--max-bytes', '1000000'], env);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^download +(≥ )?[\d.]+ Mbit\/s/m);
  assert.match(human.stdout, /^upload +n\/a/m);
  const denied = await runCli(['probe', '--target', `http://127.0.0.1:${port}/`, '--json', '--download', '--token', 'wrong-token-0123456789'], ENV);
  assert.equal(denied.code, 1);
  assert.equal((JSON.parse(denied.stdout) as { downloadMbps: unknown }).downloadMbps, null);
});

test('probe without a target or config explains what to pass and exits 2', async () => {
  const r = await runCli(['probe', '--json']);
  assert.equal(r.code, 2);
  assert.equal((JSON.parse(r.stdout) as { error: { code: string } }).error.code, 'LW_PROBE_NO_URL');
});

test('probe-server refuses a non-loopback address without a token', async () => {
  const r = await runCli(['probe-server', '--listen', '0.0.0.0:0']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /--token/);
});
