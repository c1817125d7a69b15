/** The production artifact: dist/linkward.mjs (esbuild bundle) runs the daemon and the CLI like the sources do. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { REPO_ROOT } from '../../support/daemon.ts';

const BUNDLE = join(REPO_ROOT, 'dist', 'linkward.mjs');

test('the bundle prints its version, serves /healthz within 10 s of start and stops on SIGTERM', async (t) => {
  assert.ok(existsSync(BUNDLE), 'dist/linkward.mjs missing: `npm test` builds it first (npm run build)');
  const v = spawnSync(process.execPath, [BUNDLE, 'version', '--json'], { encoding: 'utf8' });
  assert.equal(v.status, 0, v.stderr);
  assert.equal(JSON.parse(v.stdout).node.split('.')[0], '24');
  for (const flag of ['--version', '-V']) {
    for (const entry of [[flag], ['check', flag]]) {
      const f = spawnSync(process.execPath, [BUNDLE, ...entry], { encoding: 'utf8' });
      assert.equal(f.status, 0, `${entry.join(' ')}: ${f.stderr}`);
      assert.match(f.stdout, /^linkward \d+\.\d+\.\d+\S* \(node 24\.\d+\.\d+\)\n$/, `${entry.join(' ')} (full and lean CLI)`);
    }
  }

  const dir = mkdtempSync(join(tmpdir(), 'lw-bundle-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'config.yaml'), `server:\n  listen: 127.0.0.1:0\nstate:\n  dir: ${dir}\n`);
  const t0 = performance.now();
  const child = spawn(process.execPath, [BUNDLE, '--config', join(dir, 'config.yaml'), 'run'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  const address = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('bundle daemon did not log its address within 10 s')), 10_000);
    child.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      const m = /"msg":"linkward listening"/.test(buf) ? /"listen":"([^"]+)"/.exec(buf) : null;
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  let status = 0;
  for (let i = 0; i < 100 && status !== 200; i++) {
    status = (await request(`http://${address}/healthz`).catch(() => null))?.statusCode ?? 0;
    if (status !== 200) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(status, 200);
  assert.ok(performance.now() - t0 < 10_000, 'healthz within 10 s');
  const exit = new Promise((r) => child.on('exit', (code) => r(code)));
  child.kill('SIGTERM');
  assert.equal(await exit, 0);
});
