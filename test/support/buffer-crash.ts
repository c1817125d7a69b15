/** kill -9 rounds against a real child process ingesting and flushing; used by the CI test and the longer soak script. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startReceiver } from './buffer-receiver.ts';

/** Longest a round waits for its minimum of acknowledged records before the kill anyway (a stuck ingest then shows). */
const ROUND_ACK_GUARD_MS = 30_000;

const CHILD = new URL('./buffer-crash-child.ts', import.meta.url).pathname;
/** Longest wait for the child to print READY. */
const READY_TIMEOUT_MS = 15_000;
/** Longest wait for the final drain. */
const DRAIN_TIMEOUT_MS = 60_000;

export interface CrashOptions {
  rounds: number;
  /** Concurrent HTTP clients per round. */
  clients: number;
  /** The child is killed after a random time in [minMs, maxMs]... */
  minMs: number;
  maxMs: number;
  /**
   * ...and not before this many records were acknowledged in the round (bounded by ROUND_ACK_GUARD_MS): on a loaded CI
   * machine the random time alone may pass with little committed, and a round that acknowledged nothing tests nothing.
   */
  minAckedPerRound?: number;
  seed: number;
  /** Commit through the writer worker thread (buffer.commit.writerThread). */
  writerThread?: boolean;
}

export interface CrashResult {
  rounds: number;
  acked: number;
  delivered: number;
  missing: string[];
  /** Records seen under more than one Idempotency-Key (must be 0). */
  multiKey: number;
  /** Extra deliveries of a record under the same key (allowed: re-sends). */
  resent: number;
  /** Records the ledger audit reported lost at a restart (must be 0: kill -9 loses nothing, so any report is a false alarm). */
  reportedLost: number;
}

function start(stateDir: string, sinkUrl: string, writerThread: boolean): Promise<{ proc: ChildProcess; base: string }> {
  const env = { ...process.env, STATE_DIR: stateDir, SINK_URL: sinkUrl, BUFFER_WRITER_THREAD: writerThread ? '1' : '0' };
  const proc = spawn(process.execPath, [CHILD], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error('crash child did not start'));
    }, READY_TIMEOUT_MS);
    let out = '';
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /READY (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, base: m[1]! });
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`crash child exited early (${code})`));
    });
  });
}

function killHard(proc: ChildProcess): Promise<void> {
  return new Promise((r) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return r();
    proc.once('exit', () => r());
    proc.kill('SIGKILL');
  });
}

export async function runCrashRounds(o: CrashOptions): Promise<CrashResult> {
  let seed = o.seed >>> 0;
  const rnd = (): number => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296;
  const rx = await startReceiver(() => (rnd() < 0.2 ? 503 : 204));
  const dir = mkdtempSync(join(tmpdir(), 'buffer-crash-'));
  const acked = new Set<string>();
  let reportedLost = 0;
  const audit = async (base: string): Promise<void> => {
    const r = await request(`${base}/v1/buffer/stats`);
    const s = (await r.body.json()) as { lostRecords?: { records: number }[] };
    reportedLost += (s.lostRecords ?? []).reduce((n, l) => n + l.records, 0);
  };
  try {
    for (let round = 0; round < o.rounds; round++) {
      const { proc, base } = await start(dir, rx.url, o.writerThread === true);
      await audit(base);
      let stop = false;
      let seq = 0;
      const client = async (c: number): Promise<void> => {
        while (!stop) {
          const id = `r${round}-c${c}-${seq++}`;
          try {
            const res = await request(`${base}/v1/ingest/crash`, {
              method: 'POST',
              body: `{"id":"${id}"}`,
              headers: { 'content-type': 'application/x-ndjson' },
            });
            await res.body.dump();
            if (res.statusCode === 202) acked.add(id);
          } catch {
            return; // killed mid-request: not acknowledged
          }
        }
      };
      const clients = Array.from({ length: o.clients }, (_, c) => client(c));
      const roundStart = acked.size;
      await new Promise((r) => setTimeout(r, o.minMs + rnd() * (o.maxMs - o.minMs)));
      const guardEnd = Date.now() + ROUND_ACK_GUARD_MS;
      while (acked.size - roundStart < (o.minAckedPerRound ?? 0) && Date.now() < guardEnd) await new Promise((r) => setTimeout(r, 20));
      await killHard(proc);
      stop = true;
      await Promise.all(clients);
    }
    const { proc, base: finalBase } = await start(dir, rx.url, o.writerThread === true);
    await audit(finalBase);
    const lines = (): Map<string, Set<string>> => {
      const m = new Map<string, Set<string>>();
      for (const r of rx.accepted())
        for (const l of r.body.toString().trim().split('\n')) {
          const id = (JSON.parse(l) as { id: string }).id;
          const keys = m.get(id) ?? new Set<string>();
          keys.add(r.key ?? '');
          m.set(id, keys);
        }
      return m;
    };
    const end = Date.now() + DRAIN_TIMEOUT_MS;
    let seen = lines();
    while ([...acked].some((id) => !seen.has(id)) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 100));
      seen = lines();
    }
    await killHard(proc);
    const occurrences = rx.accepted().reduce((n, r) => n + r.body.toString().trim().split('\n').length, 0);
    return {
      rounds: o.rounds,
      acked: acked.size,
      delivered: [...acked].filter((id) => seen.has(id)).length,
      missing: [...acked].filter((id) => !seen.has(id)).slice(0, 20),
      multiKey: [...seen.values()].filter((k) => k.size > 1).length,
      resent: occurrences - seen.size,
      reportedLost,
    };
  } finally {
    await rx.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
