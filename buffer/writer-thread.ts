/** Optional writer worker thread: commits ingested records (synchronous=FULL) on its own connection so fsyncs never block the event loop. */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { LwError } from '../agent/base/errors.ts';
import { BufferError } from './errors.ts';
import { BUSY_TIMEOUT_MS, CACHE_SIZE_KIB } from './sqlite-open.ts';
import type { NewRecord } from './types.ts';

/**
 * Worker code as a string (eval worker), so it works from the sources and from the esbuild bundle alike.
 * Its connection gets the same small page cache as the main one (CACHE_SIZE_KIB): it only appends.
 */
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { timeout: workerData.busyMs });
db.exec('PRAGMA synchronous = FULL; PRAGMA busy_timeout = ' + workerData.busyMs + '; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -' + workerData.cacheKib + ';');
const insert = db.prepare('INSERT INTO buf_records (sink, priority, created_ms, expires_ms, content_type, content_encoding, body, size, batch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)');
const tx = db.transaction((rows) => rows.map((r) => {
  const body = Buffer.from(r[6].buffer, r[6].byteOffset, r[6].byteLength);
  return Number(insert.run(r[0], r[1], r[2], r[3], r[4], r[5], body, body.length).lastInsertRowid);
}));
parentPort.on('message', (m) => {
  if (m.close) { db.close(); parentPort.postMessage({ seq: m.seq, closed: true }); return; }
  try {
    parentPort.postMessage({ seq: m.seq, ids: tx.immediate(m.rows) });
  } catch (e) {
    if (db.inTransaction) { try { db.exec('ROLLBACK'); } catch {} }
    parentPort.postMessage({ seq: m.seq, error: { code: e && e.code, message: String(e && e.message) } });
  }
});
`;

interface Waiter {
  resolve(ids: number[]): void;
  reject(e: unknown): void;
}

interface Reply {
  seq: number;
  ids?: number[];
  closed?: boolean;
  error?: { code?: string; message: string };
}

export class WriterThread {
  readonly #w: Worker;
  readonly #pending = new Map<number, Waiter>();
  #seq = 0;
  /** Set when the worker died; callers fall back to the main-thread connection. */
  failed: string | null = null;

  constructor(dbPath: string) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.#w = new Worker(SOURCE, { eval: true, workerData: { path: dbPath, driver, busyMs: BUSY_TIMEOUT_MS, cacheKib: CACHE_SIZE_KIB } });
    this.#w.unref();
    this.#w.on('message', (m: Reply) => {
      const w = this.#pending.get(m.seq);
      if (!w) return;
      this.#pending.delete(m.seq);
      if (m.error) w.reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
      else w.resolve(m.ids ?? []);
    });
    const die = (why: string): void => {
      this.failed = why;
      for (const w of this.#pending.values()) w.reject(new LwError(BufferError.UNAVAILABLE, `buffer writer thread stopped: ${why}`));
      this.#pending.clear();
    };
    this.#w.on('error', (e) => die(e.message));
    this.#w.on('exit', (code) => {
      if (this.failed === null) die(`exit ${code}`);
    });
  }

  #call(msg: Record<string, unknown>): Promise<number[]> {
    if (this.failed !== null) return Promise.reject(new LwError(BufferError.UNAVAILABLE, `buffer writer thread stopped: ${this.failed}`));
    const seq = ++this.#seq;
    return new Promise((resolve, reject) => {
      this.#pending.set(seq, { resolve, reject });
      this.#w.postMessage({ ...msg, seq });
    });
  }

  /** Inserts the records in one durable transaction; resolves with their ids (errors carry SQLite's code). */
  append(records: readonly NewRecord[]): Promise<number[]> {
    return this.#call({ rows: records.map((r) => [r.sink, r.priority, r.createdMs, r.expiresMs, r.contentType, r.contentEncoding, r.body]) });
  }

  async close(): Promise<void> {
    if (this.failed === null) await this.#call({ close: true }).catch(() => undefined);
    this.failed = this.failed ?? 'closed';
    await this.#w.terminate();
  }
}
