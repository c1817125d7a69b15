/** Integration with the real daemon and the real `linkward` CLI: link state wired in, /readyz/link, metrics, check exit codes. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { CLI, startDaemon, type DaemonProc } from '../../support/daemon.ts';
import { Exit } from '../../../agent/cli/exit-codes.ts';

/** One CLI process: start plus one request; generous for a loaded 2-core CI machine. */
const CLI_TIMEOUT_MS = 20_000;

let d: DaemonProc;
before(async () => {
  // No probe targets: nothing is measured, so the link must stay unknown (never healthy before a measurement).
  d = await startDaemon({ uplinks: [{ name: 'wan' }] });
});
after(() => d.cleanup());

function linkward(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env.LINKWARD_ADDRESS;
  delete env.LINKWARD_TOKEN;
  return new Promise((res) => {
    execFile(process.execPath, [CLI, '--config', d.configPath, ...args], { timeout: CLI_TIMEOUT_MS, env }, (err, stdout, stderr) => {
      res({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

test('the daemon serves /readyz/link (503 unknown before any measurement) and stays ready itself', async () => {
  const r = await fetch(`${d.baseUrl}/readyz/link`);
  assert.notEqual(r.status, 404, 'link component not wired: add it to FEATURES in agent/features.ts');
  assert.equal(r.status, 503);
  const body = (await r.json()) as { verdict: string; uplink: string; reasons: string[] };
  assert.equal(body.verdict, 'unknown');
  assert.equal(body.uplink, 'wan');
  assert.deepEqual(body.reasons, ['no measurement yet']);
  assert.equal((await fetch(`${d.baseUrl}/readyz`)).status, 200, 'a bad link never makes the agent unready');
  const status = (await (await fetch(`${d.baseUrl}/v1/status`)).json()) as { link: { node: string } | null };
  assert.equal(status.link?.node, 'unknown');
  const metrics = await (await fetch(`${d.baseUrl}/metrics`)).text();
  assert.match(metrics, /linkward_link_node_state\{state="unknown"\} 1/);
  assert.match(metrics, /linkward_link_state\{uplink="wan",state="unknown"\} 1/);
});

test('`linkward check` and `linkward wait` against the real daemon', async () => {
  const address = d.baseUrl.replace('http://', '');
  const check = await linkward(['check', '--address', address]);
  assert.match(check.stdout, /^link unknown \(wan\): no measurement yet/, `check not registered in agent/cli.ts? stderr: ${check.stderr}`);
  assert.equal(check.code, Exit.DOWN);
  const json = await linkward(['check', '--address', address, '--json', '--min-down', '5']);
  assert.equal((JSON.parse(json.stdout) as { verdict: string }).verdict, 'unknown');
  const wait = await linkward(['wait', '--address', address, '--timeout', '1s', '--interval', '200ms']);
  assert.equal(wait.code, Exit.DOWN);
  assert.match(wait.stderr, /timed out after 1s waiting for healthy/);
});
