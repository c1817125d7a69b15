/** `linkward status` exit codes (0 healthy, 1 degraded, 2 down/unknown, 3 unreachable) as a real CLI process. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CLI } from '../../support/daemon.ts';
import { exitForHealth, formatStatus, span } from '../../../agent/cli/status.ts';
import type { BudgetStatus, LinkHealth, UplinkView } from '../../../agent/core/types.ts';

function statusDoc(node: string | null): Record<string, unknown> {
  return {
    version: '0.1.0',
    node: 'edge-1',
    uptimeSeconds: 12,
    ready: true,
    notReadyReasons: [],
    link:
      node === null
        ? null
        : {
            atMs: 0,
            node,
            active: 'wan',
            uplinks: {
              wan: {
                name: 'wan',
                health: node,
                sinceMs: 0,
                reasons: node === 'healthy' ? [] : ['rtt_p95=412ms>250'],
                latest: { rttMs: 41.2, downloadMbps: 3.1 },
              },
            },
          },
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

for (const [health, code] of [
  ['healthy', 0],
  ['degraded', 1],
  ['down', 2],
  ['unknown', 2],
  [null, 2],
] as const) {
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

test('status exits 2 (fix the input, not 3: the daemon is running) and names the token when the daemon answers 401', async (t) => {
  const { server, address } = await serve(() => [401, { error: { code: 'LW_HTTP_UNAUTHORIZED' } }]);
  t.after(() => server.close());
  const r = await cli(['status', '--address', address]);
  assert.equal(r.code, 2);
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
  const text = formatStatus(statusDoc('degraded') as never, 0);
  assert.match(text, /wan\s+degraded\s+down 3\.1Mbps  up not measured/);
  assert.match(text, /why: rtt_p95=412ms>250/);
});

/** 2026-12-02 19:00 UTC: the budget refills 5 h later. */
const NOW = Date.UTC(2026, 11, 2, 19, 0, 0);
const MIN = 60_000;
const MB = 1_000_000;

/** An uplink view as a fixture gives it: any field, `latest` without its required time. */
type ViewFixture = Partial<Omit<UplinkView, 'latest'>> & { latest?: Partial<UplinkView['latest']> };

function doc(node: string, uplinks: Record<string, ViewFixture>): Parameters<typeof formatStatus>[0] {
  const views = Object.fromEntries(
    Object.entries(uplinks).map(([name, u]): [string, UplinkView] => [
      name,
      { name, health: node as LinkHealth, sinceMs: NOW - 30 * MIN, reasons: [], ...u, latest: { atMs: NOW, ...u.latest } },
    ]),
  );
  return {
    version: '0.1.0',
    node: 'edge-1',
    uptimeSeconds: 4_000,
    ready: true,
    notReadyReasons: [],
    link: { atMs: NOW, node: node as LinkHealth, active: 'wan', uplinks: views },
    components: { daemon: { state: 'ok' } },
  };
}

function lines(text: string): string[] {
  const all = text.split('\n');
  for (const l of all) assert.ok([...l].length <= 100, `wider than 100 columns: ${l}`);
  return all;
}

const budget = (remainingBytes: number, spent = false): BudgetStatus => ({
  budgetBytes: 50 * MB,
  usedBytes: 50 * MB - remainingBytes,
  remainingBytes,
  resetAtMs: Date.UTC(2026, 11, 3),
  spent,
});

test('healthy: fresh figures without ages, loaded latency with responsiveness, the budget left and when it refills', () => {
  const text = formatStatus(
    doc('healthy', {
      wan: {
        latest: { downloadMbps: 48.24, uploadMbps: 9.8, rttMs: 14.2, jitterMs: 1.1, lossPercent: 0, idleRttMs: 12, loadedRttMs: 180, responsivenessRpm: 333.3 },
        measuredAtMs: { downloadMbps: NOW - 20_000, uploadMbps: NOW - 20_000, rttMs: NOW - 2_000, loadedRttMs: NOW - 20_000 },
        budget: budget(3.1 * MB),
      },
    }),
    NOW,
  );
  const l = lines(text);
  assert.ok(l.includes('  wan          healthy   down 48.2Mbps  up 9.8Mbps'), text);
  assert.ok(l.includes(' '.repeat(25) + 'rtt 14.2ms  jitter 1.1ms  loss 0%'), text);
  assert.ok(l.includes(' '.repeat(25) + 'rtt 12ms idle / 180ms loaded (333 RPM)'), text);
  assert.ok(l.includes(' '.repeat(25) + 'budget 3.1 of 50 MB left, resets 00:00 UTC in 5 h'), text);
  assert.doesNotMatch(text, /ago|!|why:/);
});

test('healthy without a speed test: says "not measured", never a bare "down —"', () => {
  const text = formatStatus(doc('healthy', { wan: { latest: { rttMs: 20, lossPercent: 0 }, measuredAtMs: { rttMs: NOW } } }), NOW);
  assert.match(text, /wan\s+healthy\s+speed not measured/);
  assert.doesNotMatch(text, /down —|up —/);
});

test('old figures carry their age; download and upload measured together show it once', () => {
  const text = formatStatus(
    doc('healthy', {
      wan: {
        latest: { downloadMbps: 48.2, uploadMbps: 9.8, rttMs: 20, lossPercent: 0, idleRttMs: 11, loadedRttMs: 95 },
        measuredAtMs: { downloadMbps: NOW - 12 * MIN, uploadMbps: NOW - 12 * MIN - 3_000, rttMs: NOW - 90 * MIN, loadedRttMs: NOW - 12 * MIN },
      },
      lte: { latest: { downloadMbps: 8, uploadMbps: 2 }, measuredAtMs: { downloadMbps: NOW - 3 * 86_400_000 - 2 * 3_600_000, uploadMbps: NOW - 30_000 } },
    }),
    NOW,
  );
  const l = lines(text);
  assert.ok(l.includes('  wan          healthy   down 48.2Mbps  up 9.8Mbps (12 min ago)'), text);
  assert.match(text, /rtt 20ms  loss 0% \(1 h 30 min ago\)/);
  assert.match(text, /rtt 11ms idle \/ 95ms loaded \(632 RPM\) \(12 min ago\)/, 'RPM from the loaded RTT when the sample carried none');
  assert.ok(l.includes('  lte          healthy   down 8Mbps (3 d 2 h ago)  up 2Mbps'), text);
});

test('lower bounds print as "≥" (a cap ended the test: the link carries at least that much)', () => {
  const text = formatStatus(doc('healthy', { wan: { latest: { downloadMbps: 54.23, uploadMbps: 9.8, downloadLowerBound: true, rttMs: 9 } } }), NOW);
  assert.match(text, /down ≥ 54\.2Mbps  up 9\.8Mbps/);
});

test('degraded with notes: reasons on a "why:" line, each note on its own "! " line, long ones wrapped under it', () => {
  const long =
    'throughput server https://speed.example.net/librespeed/backend/garbage.php answers HTTP 503 on every test, so the download and upload speeds are old';
  const text = formatStatus(
    doc('degraded', {
      wan: {
        reasons: ['loss=12%>5', 'down=3.1Mbps<5'],
        latest: { downloadMbps: 3.1, uploadMbps: 1, rttMs: 41, lossPercent: 12 },
        notes: [
          { code: 'target_refused', message: 'probe target 10.0.0.9:9781 refuses connections (no probe server there)', sinceMs: NOW - 12 * MIN },
          { code: 'throughput_server_failing', message: long, sinceMs: NOW - 10_000 },
        ],
      },
    }),
    NOW,
  );
  const l = lines(text);
  const pad = ' '.repeat(25);
  assert.ok(l.includes(`${pad}why: loss=12%>5 down=3.1Mbps<5`), text);
  assert.ok(l.includes('    ! probe target 10.0.0.9:9781 refuses connections (no probe server there) (for 12 min)'), text);
  const i = l.findIndex((x) => x.startsWith('    ! throughput server'));
  assert.ok(i > 0, text);
  assert.match(l[i + 1] ?? '', /^ {6}\S/, `continuation indented under the note's text: ${text}`);
  assert.equal(`${l[i]?.slice(6)} ${l[i + 1]?.slice(6)}`, long);
  assert.equal(l[i + 2], 'components:');
});

test('budget spent: says so with when it refills', () => {
  const text = formatStatus(
    doc('healthy', {
      lte: {
        latest: { downloadMbps: 20, uploadMbps: 5, rttMs: 60 },
        measuredAtMs: { downloadMbps: NOW - 4 * 3_600_000, uploadMbps: NOW - 4 * 3_600_000 },
        budget: budget(0, true),
        notes: [{ code: 'budget_spent', message: 'daily probe budget spent: speeds are not re-measured until 00:00 UTC', sinceMs: NOW - 4 * 3_600_000 }],
      },
    }),
    NOW,
  );
  const l = lines(text);
  assert.ok(l.includes(' '.repeat(25) + 'budget spent (50 of 50 MB used), resets 00:00 UTC in 5 h'), text);
  assert.match(text, /down 20Mbps  up 5Mbps \(4 h ago\)/);
  assert.match(text, /! daily probe budget spent: speeds are not re-measured until 00:00 UTC \(for 4 h\)/);
});

test('measurements disturbed: the void-sample note is shown beside a verdict it did not change', () => {
  const text = formatStatus(
    doc('healthy', {
      wan: {
        latest: { rttMs: 15, lossPercent: 0, downloadMbps: 90, uploadMbps: 20 },
        notes: [
          {
            code: 'measurements_disturbed',
            message: 'measurements disturbed: agent starved of CPU (3 of the last 20 samples set aside)',
            sinceMs: NOW - 5 * MIN,
          },
        ],
      },
    }),
    NOW,
  );
  assert.match(text, /wan\s+healthy\s+down 90Mbps/);
  assert.match(text, /\n {4}! measurements disturbed: agent starved of CPU \(3 of the last 20 samples set aside\) \(for 5 min\)\n/);
});

test("ages use the daemon's clock when the document carries it (a skewed CLI clock changes nothing)", () => {
  const d = {
    ...doc('healthy', { wan: { latest: { downloadMbps: 48.2, uploadMbps: 9.8 }, measuredAtMs: { downloadMbps: NOW - 12 * MIN, uploadMbps: NOW - 12 * MIN } } }),
    nowMs: NOW,
  };
  assert.match(formatStatus(d, NOW + 3 * 3_600_000), /\(12 min ago\)/);
  assert.equal(span(-5_000), '0 s');
});

test('backlogLine: the buffer backlog in one line (count, size, oldest), nothing without a buffer', async () => {
  const { backlogLine } = await import('../../../agent/cli/status.ts');
  assert.equal(backlogLine(undefined), null);
  assert.equal(backlogLine({ usage: { records: 0, bytes: 0 }, lanes: [] }), 'telemetry: nothing waiting');
  assert.equal(
    backlogLine({ usage: { records: 1204, bytes: 412_345 }, lanes: [{ oldestAgeSeconds: 30 }, { oldestAgeSeconds: 372 }] }),
    'telemetry: 1,204 records waiting (412 kB), oldest 6 min',
  );
  assert.equal(backlogLine({ usage: { records: 3, bytes: 10 }, lanes: [{ oldestAgeSeconds: 7_200 }] }), 'telemetry: 3 records waiting (0 kB), oldest 2.0 h');
});
