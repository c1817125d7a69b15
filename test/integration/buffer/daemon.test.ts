/** The buffer inside the real daemon (`linkward run`): token-protected ingest, forwarding, `linkward buffer`, and kill -9 rounds. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { CLI, startDaemon } from '../../support/daemon.ts';
import { startReceiver } from '../../support/buffer-receiver.ts';

const TOKEN = 'daemon-buffer-token-0123456789';
/** kill -9 rounds against the daemon (each round: start, ingest, kill at a random moment). */
const ROUNDS = Number(process.env.BUFFER_DAEMON_CRASH_ROUNDS ?? 3);
const CLIENTS = 6;
/** Each round kills the daemon only after this many 202s (a loaded CI machine took 1 s for 15), then at a random moment. */
const ACKS_PER_ROUND = 20;
/** Longest a round waits for those 202s. */
const ROUND_ACK_WAIT_MS = 20_000;

function config(sinkUrl: string): Record<string, unknown> {
  return {
    server: { token: TOKEN },
    probes: { enabled: false },
    kubernetes: { enabled: false },
    sinks: [{ name: 'app', url: sinkUrl, protocol: 'ndjson' }],
    buffer: { retry: { baseMs: 20, capMs: 200 }, flush: { pollMs: 50 } },
  };
}

const ids = (rx: Awaited<ReturnType<typeof startReceiver>>): Set<string> =>
  new Set(
    rx.accepted().flatMap((r) =>
      r.body
        .toString()
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { id: string }).id),
    ),
  );

describe('buffer in the real daemon', () => {
  it('ingests with the token, forwards, answers the CLI, and loses no 202 across kill -9 rounds', async (t) => {
    const rx = await startReceiver((n) => (n % 5 === 4 ? 503 : 204));
    const stateDir = mkdtempSync(join(tmpdir(), 'buffer-daemon-'));
    const acked = new Set<string>();
    let current: Awaited<ReturnType<typeof startDaemon>> | null = null;
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const d = await startDaemon(config(rx.url), { stateDir });
        current = d;
        if (round === 0) {
          const no = await request(`${d.baseUrl}/v1/ingest/app`, { method: 'POST', body: '{"id":"x"}' });
          await no.body.dump();
          assert.equal(no.statusCode, 401);
          const out = await new Promise<string>((res, rej) =>
            execFile(
              process.execPath,
              [CLI, '--config', d.configPath, 'buffer', 'stats', '--json', '--address', d.baseUrl],
              { timeout: 20_000 },
              (e, so, se) => (e ? rej(new Error(`${e.message} ${se}`)) : res(so)),
            ),
          );
          assert.equal((JSON.parse(out) as { available: boolean }).available, true);
        }
        let stop = false;
        let seq = 0;
        const client = async (c: number): Promise<void> => {
          while (!stop) {
            const id = `d${round}-${c}-${seq++}`;
            try {
              const r = await request(`${d.baseUrl}/v1/ingest/app`, {
                method: 'POST',
                body: `{"id":"${id}"}`,
                headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-ndjson' },
              });
              await r.body.dump();
              if (r.statusCode === 202) acked.add(id);
            } catch {
              return;
            }
          }
        };
        const before = acked.size;
        const running = Array.from({ length: CLIENTS }, (_, c) => client(c));
        const until = Date.now() + ROUND_ACK_WAIT_MS;
        while (acked.size - before < ACKS_PER_ROUND && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
        assert.ok(acked.size - before >= ACKS_PER_ROUND, `round ${round}: only ${acked.size - before} acknowledged in ${ROUND_ACK_WAIT_MS} ms`);
        // kill at a random moment while the clients keep sending
        await new Promise((r) => setTimeout(r, Math.random() * 700));
        d.child.kill('SIGKILL');
        await d.exited;
        stop = true;
        await Promise.all(running);
      }
      const d = await startDaemon(config(rx.url), { stateDir });
      current = d;
      const end = Date.now() + 30_000;
      let got = ids(rx);
      while ([...acked].some((id) => !got.has(id)) && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 100));
        got = ids(rx);
      }
      await d.stop();
      const missing = [...acked].filter((id) => !got.has(id));
      t.diagnostic(`daemon kill -9 rounds=${ROUNDS} acked=${acked.size} missing=${missing.length}`);
      assert.ok(acked.size >= ROUNDS * ACKS_PER_ROUND, `only ${acked.size} acknowledged`);
      assert.deepEqual(missing.slice(0, 10), []);
    } finally {
      await current?.cleanup();
      await rx.close();
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
