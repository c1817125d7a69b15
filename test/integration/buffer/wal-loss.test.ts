/** Never silent loss: records acknowledged, kill -9, WAL bytes overwritten, restart → the gap is logged, counted and in status. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';

const CHILD = new URL('../../support/buffer-crash-child.ts', import.meta.url).pathname;
/** Records acknowledged before the crash (the case). */
const ACKED = 2_000;
/** WAL geometry (SQLite file format): 32-byte header, then frames of a 24-byte header + one page. */
const WAL_HEADER = 32;
const FRAME_HEADER = 24;
/** Offsets in the -shm file: mxFrame in the WAL-index header, nBackfill in the checkpoint info after both header copies. */
const SHM_MX_FRAME = 16;
const SHM_N_BACKFILL = 96;
/** Bound on waiting for the child. */
const READY_TIMEOUT_MS = 15_000;

interface Child {
  proc: ChildProcess;
  base: string;
  stdout: string[];
  stderr: string[];
}

function start(stateDir: string): Promise<Child> {
  // Nothing listens on the discard port: no record leaves, so every acknowledged one must still be in the file.
  const env = { ...process.env, STATE_DIR: stateDir, SINK_URL: 'http://127.0.0.1:9/none', BUFFER_WRITER_THREAD: '0', BUFFER_TEST_LOG: 'error' };
  const proc = spawn(process.execPath, [CHILD], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  proc.stderr!.on('data', (c: Buffer) => stderr.push(c.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error('child did not start'));
    }, READY_TIMEOUT_MS);
    proc.stdout!.on('data', (c: Buffer) => {
      stdout.push(c.toString());
      const m = /READY (\S+)/.exec(stdout.join(''));
      if (m) {
        clearTimeout(timer);
        resolve({ proc, base: m[1]!, stdout, stderr });
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited early (${code})`));
    });
  });
}

function kill9(proc: ChildProcess): Promise<void> {
  return new Promise((r) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return r();
    proc.once('exit', () => r());
    proc.kill('SIGKILL');
  });
}

/** WAL frames written but not yet copied into buffer.db: [first, last] (1-based), or null when all are checkpointed. */
function uncheckpointed(dir: string): [number, number] | null {
  const shm = readFileSync(join(dir, 'buffer.db-shm'));
  const mx = shm.readUInt32LE(SHM_MX_FRAME);
  const backfill = shm.readUInt32LE(SHM_N_BACKFILL);
  return mx > backfill ? [backfill + 1, mx] : null;
}

async function stats(
  base: string,
): Promise<{ usage: { records: number }; lostRecords?: { reason: string; records: number; expected: number; present: number }[] }> {
  const r = await request(`${base}/v1/buffer/stats`);
  return (await r.body.json()) as never;
}

describe('acknowledged records lost outside the buffer (WAL corrupted after kill -9)', () => {
  it('reports the gap between acknowledged and present: status, log and per-reason counter', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'buffer-walloss-'));
    let child: Child | null = null;
    try {
      child = await start(dir);
      let acked = 0;
      const post = async (i: number): Promise<void> => {
        const r = await request(`${child!.base}/v1/ingest/crash`, { method: 'POST', body: `{"id":${i}}`, headers: { 'content-type': 'application/x-ndjson' } });
        await r.body.dump();
        if (r.statusCode === 202) acked += 1;
      };
      for (let i = 0; i < ACKED; i += 8) await Promise.all(Array.from({ length: 8 }, (_, k) => post(i + k)));
      // Make sure the WAL holds commits not yet copied into the file (an autocheckpoint may just have run).
      for (let i = ACKED; uncheckpointed(dir) === null && i < ACKED + 100; i++) await post(i);
      const frames = uncheckpointed(dir);
      assert.ok(frames, 'WAL holds uncheckpointed commits');
      await kill9(child.proc);
      child = null;
      // Overwrite bytes inside the first uncheckpointed frame's page: SQLite's recovery stops at the bad checksum.
      const wal = readFileSync(join(dir, 'buffer.db-wal'));
      const pageSize = wal.readUInt32BE(8);
      const at = WAL_HEADER + (frames[0] - 1) * (FRAME_HEADER + pageSize) + FRAME_HEADER + 100;
      const fd = openSync(join(dir, 'buffer.db-wal'), 'r+');
      writeSync(fd, Buffer.alloc(64, 0xa5), 0, 64, at);
      closeSync(fd);

      child = await start(dir);
      const s = await stats(child.base);
      const present = s.usage.records;
      const lost = acked - present;
      assert.ok(lost > 0, `the corruption cost records (acked ${acked}, present ${present})`);
      assert.deepEqual(
        s.lostRecords?.map((l) => [l.reason, l.records, l.expected, l.present]),
        [['missing_at_open', lost, acked, present]],
      );
      const until = Date.now() + 2_000;
      while (!/acknowledged telemetry records are missing/.test(child.stderr.join('')) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      assert.match(child.stderr.join(''), /acknowledged telemetry records are missing/);
      // Reported once: a clean restart finds no new gap.
      await kill9(child.proc);
      child = await start(dir);
      assert.equal((await stats(child.base)).lostRecords, undefined);
      process.stdout.write(`# acked ${acked}, present after WAL corruption ${present}, gap reported ${lost}\n`);
    } finally {
      if (child) await kill9(child.proc);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
