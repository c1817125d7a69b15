/** `linkward status` exit codes (0 healthy, 1 degraded, 2 down/unknown, 3 unreachable) as a real CLI process. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CLI } from '../../support/daemon.ts';
import { exitForHealth, formatStatus } from '../../../agent/cli/status.ts';

function statusDoc(node: string | null): Record<string, unknown> {
  return {
    version: '0.1.0',
    node: 'edge-1',
    uptimeSeconds: 12,
    ready: true,
    notReadyReasons: [],
    link: node === null ? null : { atMs: 0, node, active: 'wan', uplinks: { wan: { name: 'wan', health: node, sinceMs: 0, reasons: node === 'healthy' ? [] : ['rtt_p95=412ms>250'], latest: { rttMs: 41.2, downloadMbps: 3.1 } } } },
    components: { daemon: { state: 'ok' } },
  };
}

async function serve(handler: (path: string) => [number, unknown]): Promise<{ server: Server; address: string }> {
  const server = createServer((req, res) => {
    const [status, body] = handler(req.url ?? '/');
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, address: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LINKWARD_CONFIG: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

for (const [health, code] of [['healthy', 0], ['degraded', 1], ['down', 2], ['unknown', 2], [null, 2]] as const) {
  test(`status exits ${code} when the link is ${health ?? 'not measured yet'}`, async (t) => {
    const { server, address } = await serve(() => [200, statusDoc(health)]);
    t.after(() => server.close());
    const r = await cli(['status', '--address', address]);
    assert.equal(r.code, code, r.stderr);
    assert.match(r.stdout, /linkward 0\.1\.0 on edge-1/);
    assert.match(r.stdout, new RegExp(`link: ${health ?? 'unknown'}`));
  });
}

test('status --json prints the document', async (t) => {
  const { server, address } = await serve(() => [200, statusDoc('healthy')]);
  t.after(() => server.close());
  const r = await cli(['status', '--json', '--address', address]);
  assert.equal(r.code, 0);
  assert.equal(JSON.parse(r.stdout).link.node, 'healthy');
});

test('status exits 3 with a how-to-start message when the daemon is not reachable', async () => {
  const { server, address } = await serve(() => [200, {}]);
  await new Promise<void>((r) => server.close(() => r()));
  const r = await cli(['status', '--address', address]);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /not reachable.*linkward run/);
});

test('status exits 3 and names the token when the daemon answers 401', async (t) => {
  const { server, address } = await serve(() => [401, { error: { code: 'LW_HTTP_UNAUTHORIZED' } }]);
  t.after(() => server.close());
  const r = await cli(['status', '--address', address]);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /token/);
});

test('unknown commands and options exit 2 with usage help', async () => {
  const r = await cli(['frobnicate']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command/);
});

test('config validate: exit 0 valid, 2 invalid (as a process)', async () => {
  const ok = await cli(['config', 'validate', '/dev/null']);
  assert.equal(ok.code, 0, ok.stderr);
  const bad = await cli(['config', 'validate', '/nonexistent/linkward.yaml']);
  assert.equal(bad.code, 2);
});

test('pure helpers: exitForHealth and formatStatus', () => {
  assert.equal(exitForHealth('healthy'), 0);
  assert.equal(exitForHealth('degraded'), 1);
  assert.equal(exitForHealth('down'), 2);
  assert.equal(exitForHealth(undefined), 2);
  const text = formatStatus(statusDoc('degraded') as never);
  assert.match(text, /wan\s+degraded\s+down 3\.1Mbps/);
  assert.match(text, /rtt_p95=412ms>250/);
});
