/** The real daemon stops (process gone, not just "stopped" logged) within the 2 s bound while everything it talks to hangs. */
// Issue 13: with the link down the log said "stopped" within 4 s but the process lived 132–139 s, held open by
// half-open connections; under systemd that is a SIGKILL at TimeoutStopSec on every stop. Here every peer the agent
// has (light-probe target, speed-test server, telemetry sink, Kubernetes API) accepts connections and never answers,
// and a speed test, a flush and API requests are in flight when SIGTERM arrives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { request } from 'undici';
import { startDaemon } from '../../support/daemon.ts';

const TOKEN = 'stop-time-token-0123456789abcdef';
/** The goal (issue 13): the process is gone within 2 s of SIGTERM in every state. */
const STOP_GOAL_MS = 2_000;
/** Slack for a loaded CI machine between our kill() and the child's exit event (the daemon's own hard limit is the goal). */
const SCHEDULING_SLACK_MS = 1_000;

/** A TCP server that accepts and never writes a byte: every request to it hangs until the client gives up. */
async function hangServer(): Promise<{ port: number; accepted: () => number; close: () => void }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const srv = createServer((s) => {
    accepted++;
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
  const port = (srv.address() as { port: number }).port;
  return {
    port,
    accepted: () => accepted,
    close: () => {
      for (const s of sockets) s.destroy();
      srv.close();
    },
  };
}

test(`SIGTERM with every peer hanging (probe, speed test, flush, API in flight): the process exits 0 within ${STOP_GOAL_MS} ms`, {
  timeout: 60_000,
}, async (t) => {
  const hang = await hangServer();
  t.after(() => hang.close());
  const d0 = `http://127.0.0.1:${hang.port}`;
  const config = {
    server: { token: TOKEN },
    uplinks: [{ name: 'wan' }],
    probes: { targets: [`127.0.0.1:${hang.port}`], intervalMs: 500, timeoutMs: 400, throughput: { url: `${d0}/` } },
    sinks: [{ name: 'app', url: `${d0}/ingest`, protocol: 'ndjson' }],
    buffer: { retry: { baseMs: 20, capMs: 200 }, flush: { pollMs: 50 } },
    kubernetes: { enabled: true, client: 'lean', requestTimeoutMs: 60_000, fleet: { enabled: false } },
  };
  const dir = mkdtempSync(join(tmpdir(), 'lw-stop-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'current-context: c',
      `clusters: [{name: c, cluster: {server: "${d0}", insecure-skip-tls-verify: true}}]` /* plain http needs the flag, else the client is refused and no API request is ever made */,
      'users: [{name: u, user: {token: t}}]',
      'contexts: [{name: c, context: {cluster: c, user: u}}]',
      '',
    ].join('\n'),
  );
  const agent = await startDaemon({ ...config, kubernetes: { ...config.kubernetes, kubeconfig } }, { env: { NODE_NAME: 'edge-stop' } });
  t.after(() => agent.cleanup());
  const auth = { authorization: `Bearer ${TOKEN}` };
  const ingest = await request(`${agent.baseUrl}/v1/ingest/app`, {
    method: 'POST',
    body: '{"id":"a"}\n',
    headers: { ...auth, 'content-type': 'application/x-ndjson' },
  });
  await ingest.body.dump();
  assert.equal(ingest.statusCode, 202, 'record acknowledged before the stop');
  // A forced speed test that will hang on the silent server (its answer is never awaited).
  const speed = request(`${agent.baseUrl}/v1/probes/throughput?uplink=wan`, { method: 'POST', headers: auth }).then(
    (r) => r.body.dump(),
    () => undefined,
  );
  const flush = request(`${agent.baseUrl}/v1/buffer/flush`, { method: 'POST', headers: auth }).then(
    (r) => r.body.dump(),
    () => undefined,
  );
  const busyBy = Date.now() + 10_000;
  while (hang.accepted() < 4 && Date.now() < busyBy) await new Promise((r) => setTimeout(r, 100));
  assert.ok(hang.accepted() >= 4, `the agent's requests reached the silent peer (${hang.accepted()} connections)`);

  const t0 = performance.now();
  const code = await agent.stop('SIGTERM');
  const stopMs = performance.now() - t0;
  t.diagnostic(`process gone ${Math.round(stopMs)} ms after SIGTERM (peer connections ${hang.accepted()})`);
  t.diagnostic(JSON.stringify(agent.logs.slice(agent.logs.findIndex((l) => l.msg === 'stopping')).map((l) => [l.component, l.msg])));
  void speed;
  void flush;
  assert.equal(code, 0, `clean exit code (stderr: ${agent.stderr().slice(-400)})`);
  assert.ok(
    agent.logs.some((l) => l.msg === 'stopped'),
    'logged "stopped"',
  );
  const db = new Database(join(agent.stateDir, 'buffer.db'), { readonly: true });
  const kept = db.prepare('SELECT (SELECT count(*) FROM buf_records) + (SELECT coalesce(sum(record_count), 0) FROM buf_batches) AS n').get() as { n: number };
  db.close();
  assert.ok(kept.n >= 1, 'the acknowledged record is still in buffer.db (the sink never answered)');
  assert.ok(stopMs <= STOP_GOAL_MS + SCHEDULING_SLACK_MS, `process exited ${Math.round(stopMs)} ms after SIGTERM (goal ${STOP_GOAL_MS} ms)`);
});
