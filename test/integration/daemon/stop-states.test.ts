/** The shipped bundle exits 0 within 2 s of SIGTERM in each state (link down, API hanging, flush or speed test in flight), losing nothing acknowledged. */
// Issue 13 item 1. One state per test, so a regression names the state that holds the exit. Every test ingests
// records first (each acknowledged with 202) and, after the stop, restarts the agent on the same state directory with
// a working sink: every acknowledged id must reach a sink, in the first run (answered 2xx) or after the restart.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { BUNDLE, startDaemon, type DaemonProc } from '../../support/daemon.ts';
import { startReceiver } from '../../support/buffer-receiver.ts';
import { idsOf, startBlackhole, startSilentServer, startSlowProbeServer, startSlowSink, synSentTo, type Peer } from '../../support/stop-peers.ts';

const TOKEN = 'stop-states-token-0123456789abcd';
const AUTH = { authorization: `Bearer ${TOKEN}` };
/** The goal (issue 13): the process is gone within 2 s of SIGTERM. */
const STOP_GOAL_MS = 2_000;
/** Between our kill() and the child's exit event on a shared 2-core machine; exit code 0 already proves the agent's own stop finished inside its 2 s hard limit. */
const SCHEDULING_SLACK_MS = 500;
/** Fast retries and polls, so the forwarder is busy (or reconnecting) when the signal comes. */
const BUFFER = { retry: { baseMs: 20, capMs: 200 }, flush: { pollMs: 50 } };

const sink = (url: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: 'app',
  url,
  protocol: 'ndjson',
  compression: 'none',
  ...extra,
});

function stateDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'lw-stop-states-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function run(t: TestContext, dir: string, config: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Promise<DaemonProc> {
  assert.ok(existsSync(BUNDLE), 'dist/linkward.mjs missing: run `npm run build` first');
  const agent = await startDaemon({ server: { token: TOKEN }, buffer: BUFFER, ...config }, { stateDir: dir, entry: BUNDLE, env });
  t.after(() => agent.cleanup());
  return agent;
}

async function until(what: string, timeoutMs: number, ok: () => boolean | Promise<boolean>): Promise<void> {
  const by = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > by) assert.fail(`not reached within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Posts one record per id; each must be acknowledged (202). */
async function ingest(agent: DaemonProc, ids: string[]): Promise<void> {
  await Promise.all(
    ids.map(async (id) => {
      const r = await request(`${agent.baseUrl}/v1/ingest/app`, {
        method: 'POST',
        body: `{"id":"${id}"}\n`,
        headers: { ...AUTH, 'content-type': 'application/x-ndjson' },
      });
      await r.body.dump();
      assert.equal(r.statusCode, 202, `record ${id} acknowledged`);
    }),
  );
}

async function linkNode(agent: DaemonProc): Promise<string | undefined> {
  const r = await request(`${agent.baseUrl}/v1/status`, { headers: AUTH });
  const doc = (await r.body.json()) as { link?: { node?: string } | null };
  return doc.link?.node;
}

/** SIGTERM, then the checks every state shares: exit code 0 within the goal, "stopped" logged, no forced exit. */
async function stopInTime(t: TestContext, agent: DaemonProc, state: string): Promise<void> {
  const t0 = performance.now();
  const code = await agent.stop('SIGTERM');
  const ms = performance.now() - t0;
  const stopLog = agent.logs.slice(agent.logs.findIndex((l) => l.msg === 'stopping'));
  t.diagnostic(`${state}: process gone ${Math.round(ms)} ms after SIGTERM (exit ${code}); ${JSON.stringify(stopLog.map((l) => [l.time, l.component, l.msg]))}`);
  assert.equal(code, 0, `${state}: clean exit (stderr: ${agent.stderr().slice(-400)}; last logs: ${JSON.stringify(agent.logs.slice(-5))})`);
  assert.ok(
    agent.logs.some((l) => l.msg === 'stopped'),
    `${state}: logged "stopped"`,
  );
  // Exit code 0 alone would also hold if a component sat out the whole 1.5 s budget: then the ones stopped after it
  // (route restore among them) get 100 ms each. Every component must stop on its own.
  const overran = stopLog.filter((l) => typeof l.msg === 'string' && l.msg.includes('did not stop within'));
  assert.deepEqual(
    overran.map((l) => l.msg),
    [],
    `${state}: every component stopped within its share of the budget`,
  );
  assert.ok(ms <= STOP_GOAL_MS + SCHEDULING_SLACK_MS, `${state}: process exited ${Math.round(ms)} ms after SIGTERM (goal ${STOP_GOAL_MS} ms)`);
}

/** Restarts on the same state directory with a working sink; every acknowledged id not delivered before must arrive. */
async function assertNothingLost(t: TestContext, dir: string, acked: string[], deliveredBefore: ReadonlySet<string>): Promise<void> {
  const receiver = await startReceiver(() => 204);
  t.after(() => receiver.close());
  const missing = (): string[] => {
    const got = new Set([...deliveredBefore, ...receiver.accepted().flatMap((r) => idsOf(r.body.toString()))]);
    return acked.filter((id) => !got.has(id));
  };
  const agent = await run(t, dir, { sinks: [sink(receiver.url)] });
  await until(`every acknowledged record delivered after the restart (missing: ${missing().join(',')})`, 15_000, () => missing().length === 0);
  t.diagnostic(`${acked.length} acknowledged: ${deliveredBefore.size} delivered before the stop, ${receiver.accepted().length} requests after the restart`);
  await agent.stop('SIGTERM');
}

const ids = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

test('link down (probe targets and the sink blackholed, connects in SYN_SENT): exits 0 within 2 s, records kept', { timeout: 60_000 }, async (t) => {
  const hole = await startBlackhole();
  t.after(() => hole.close());
  const dir = stateDir(t);
  const agent = await run(t, dir, {
    uplinks: [{ name: 'wan' }],
    probes: { targets: [`127.0.0.1:${hole.port}`], intervalMs: 500 },
    sinks: [sink(`http://127.0.0.1:${hole.port}/ingest`)],
  });
  const acked = ids('down', 5);
  await ingest(agent, acked);
  // light-probe samples are void during the 10 s start-up warm-up, so "down" comes after it
  await until('link state down', 30_000, async () => (await linkNode(agent)) === 'down');
  assert.ok(synSentTo(hole.port) >= 1, 'the agent has a connection in SYN_SENT to the blackholed peer (the half-open state of issue 13)');
  await stopInTime(t, agent, 'link down');
  await assertNothingLost(t, dir, acked, new Set());
});

test('Kubernetes API hanging (accepts, never answers): exits 0 within 2 s, records kept', { timeout: 60_000 }, async (t) => {
  const api = await startSilentServer();
  const target = await startSilentServer();
  t.after(() => Promise.all([api.close(), target.close()]));
  const receiver = await startReceiver(() => 204);
  t.after(() => receiver.close());
  const dir = stateDir(t);
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'current-context: c',
      `clusters: [{name: c, cluster: {server: "http://127.0.0.1:${api.port}", insecure-skip-tls-verify: true}}]`,
      'users: [{name: u, user: {token: t}}]',
      'contexts: [{name: c, context: {cluster: c, user: u}}]',
      '',
    ].join('\n'),
  );
  const agent = await run(
    t,
    dir,
    {
      uplinks: [{ name: 'wan' }],
      probes: { targets: [`127.0.0.1:${target.port}`], intervalMs: 500, timeoutMs: 400 },
      sinks: [sink(receiver.url)],
      kubernetes: { enabled: true, client: 'lean', kubeconfig, requestTimeoutMs: 60_000, fleet: { enabled: false } },
    },
    { NODE_NAME: 'edge-stop' },
  );
  const acked = ids('api', 5);
  await ingest(agent, acked);
  // a link snapshot starts a reconcile pass, which waits for the Node read that the API never answers
  await until('link state measured', 15_000, async () => ['healthy', 'degraded', 'down'].includes((await linkNode(agent)) ?? 'unknown'));
  // the watch stops on its own signal; the list (or a patch) of the Node is what a hanging API leaves in flight
  await until(`a Kubernetes API request besides the watch in flight (seen: ${api.requests.join(', ')})`, 15_000, () =>
    api.requests.some((r) => r.includes('edge-stop') && !r.includes('watch=')),
  );
  await stopInTime(t, agent, 'API hanging');
  await assertNothingLost(t, dir, acked, new Set(receiver.accepted().flatMap((r) => idsOf(r.body.toString()))));
});

test('flush in flight (a sink answering each batch after 300 ms, a backlog waiting): exits 0 within 2 s, every acknowledged record delivered or kept', {
  timeout: 60_000,
}, async (t) => {
  const slow = await startSlowSink(300);
  t.after(() => slow.close());
  const dir = stateDir(t);
  const agent = await run(t, dir, { sinks: [sink(`http://127.0.0.1:${slow.port}/ingest`, { batchMaxRecords: 5 })] });
  const acked = ids('flush', 60);
  await ingest(agent, acked);
  await until('two batches delivered and one in flight', 15_000, () => slow.delivered.size >= 10 && slow.inFlight() >= 1);
  await stopInTime(t, agent, 'flush in flight');
  assert.ok(slow.delivered.size < acked.length, `a backlog was left at the stop (${slow.delivered.size} of ${acked.length} delivered)`);
  await assertNothingLost(t, dir, acked, slow.delivered);
});

test('speed test in flight (a server trickling the download): exits 0 within 2 s, records kept', { timeout: 60_000 }, async (t) => {
  const probe = await startSlowProbeServer();
  const target: Peer = await startSilentServer();
  t.after(() => Promise.all([probe.close(), target.close()]));
  const receiver = await startReceiver(() => 204);
  t.after(() => receiver.close());
  const dir = stateDir(t);
  const agent = await run(t, dir, {
    uplinks: [{ name: 'wan' }],
    probes: {
      targets: [`127.0.0.1:${target.port}`],
      intervalMs: 500,
      timeoutMs: 400,
      throughput: { url: `http://127.0.0.1:${probe.port}/`, maxDurationMs: 60_000 },
    },
    sinks: [sink(receiver.url)],
  });
  const acked = ids('speed', 5);
  await ingest(agent, acked);
  const speed = request(`${agent.baseUrl}/v1/probes/throughput?uplink=wan`, { method: 'POST', headers: AUTH }).then(
    (r) => r.body.dump(),
    () => undefined,
  );
  await until(`the download streaming for 500 ms (server saw: ${probe.paths.join(', ')})`, 10_000, () => probe.streamingMs() >= 500);
  await stopInTime(t, agent, 'speed test in flight');
  await speed;
  await assertNothingLost(t, dir, acked, new Set(receiver.accepted().flatMap((r) => idsOf(r.body.toString()))));
});
