/** /metrics passes `promtool check metrics` (Debian's prometheus package ships promtool). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { request } from 'undici';
import { startDaemon } from '../../support/daemon.ts';

test('promtool check metrics accepts the /metrics output', async (t) => {
  const which = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  assert.equal(which.error, undefined, 'promtool not found: apt-get install prometheus (CI installs it in .ci/run)');
  const d = await startDaemon();
  t.after(() => d.cleanup());
  const body = await (await request(`${d.baseUrl}/metrics`)).body.text();
  const r = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, `promtool: ${r.stdout}${r.stderr}`);
  assert.match(body, /# HELP linkward_build_info /);
});
