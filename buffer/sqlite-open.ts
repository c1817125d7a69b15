/** Opens buffer.db with durable pragmas and a versioned schema; a corrupt file is moved aside and replaced. */
import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';
import { existsSync, renameSync } from 'node:fs';
import { LwError } from '../agent/base/errors.ts';
import { BufferError, isCorrupt } from './errors.ts';

/** Version of the buf_* tables; bump with a migration step when they change. */
export const BUFFER_SCHEMA_VERSION = 1;
/** Wait this long for a lock held by another connection (CLI inspection) before SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5_000;
/** Checkpoint every 1 MiB of WAL (256 pages) instead of 4 MiB: a smaller WAL needs less free space to fold back. */
export const WAL_AUTOCHECKPOINT_PAGES = 256;
/** After a checkpoint the WAL is truncated to at most this size, so a drained buffer gives disk back. */
export const JOURNAL_SIZE_LIMIT_BYTES = 16 * 1024 * 1024;
/**
 * Page cache per connection. better-sqlite3 compiles SQLite with a 16 MB default (SQLITE_DEFAULT_CACHE_SIZE=-16000),
 * which a growing buffer file fills under ingest load: +16 MB RSS (+32 MB with the writer thread's connection). The
 * buffer only touches the right edge of each b-tree (appends) and the oldest unsealed records (drain), so SQLite's
 * stock 2 MiB holds the working set; misses are reads from the OS page cache (docs/bench/buffer.md).
 */
export const CACHE_SIZE_KIB = 2_048;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS buf_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS buf_records (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  sink TEXT NOT NULL, priority INTEGER NOT NULL, created_ms INTEGER NOT NULL, expires_ms INTEGER,
  content_type TEXT, content_encoding TEXT, body BLOB NOT NULL, size INTEGER NOT NULL, batch_id TEXT);
CREATE INDEX IF NOT EXISTS buf_records_lane ON buf_records (sink, priority, batch_id, id);
CREATE INDEX IF NOT EXISTS buf_records_evict ON buf_records (priority DESC, id);
CREATE INDEX IF NOT EXISTS buf_records_ttl ON buf_records (expires_ms) WHERE expires_ms IS NOT NULL;
CREATE INDEX IF NOT EXISTS buf_records_batch ON buf_records (batch_id) WHERE batch_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS buf_batches (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
  sink TEXT NOT NULL, priority INTEGER NOT NULL, created_ms INTEGER NOT NULL,
  content_type TEXT, content_encoding TEXT, body BLOB NOT NULL, record_count INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS buf_batches_lane ON buf_batches (sink, priority, seq);
CREATE TABLE IF NOT EXISTS buf_dead_letters (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
  sink TEXT NOT NULL, priority INTEGER NOT NULL, failed_ms INTEGER NOT NULL, status INTEGER, reason TEXT NOT NULL,
  record_count INTEGER NOT NULL, content_type TEXT, content_encoding TEXT, body BLOB NOT NULL);
`;

export interface OpenResult {
  db: Db;
  /** Where a corrupt file was moved (null: the file was fine or new). */
  movedAside: string | null;
}

/** Applies pragmas (auto_vacuum first, before any table exists) and creates or checks the schema. */
function prepare(path: string): Db {
  const db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
  try {
    db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    // Acknowledged means durable across power loss: fsync the WAL at every commit.
    db.pragma('synchronous = FULL');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // Temp files could land on another, smaller partition; keep them in memory.
    db.pragma('temp_store = MEMORY');
    db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT_BYTES}`);
    db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    db.pragma(`cache_size = -${CACHE_SIZE_KIB}`);
    const check: unknown = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw Object.assign(new Error(`quick_check: ${String(check)}`), { code: 'SQLITE_CORRUPT' });
    db.exec(SCHEMA);
    const row = db.prepare("SELECT value FROM buf_meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
    if (row === undefined) {
      db.prepare("INSERT INTO buf_meta (key, value) VALUES ('schema_version', ?)").run(String(BUFFER_SCHEMA_VERSION));
    } else if (Number(row.value) > BUFFER_SCHEMA_VERSION) {
      throw new LwError(
        BufferError.UNAVAILABLE,
        `${path} has buffer schema ${row.value}, newer than this linkward (${BUFFER_SCHEMA_VERSION}); upgrade linkward or move the file away`,
      );
    }
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/** Opens (or creates) the buffer database; a corrupt one is renamed to `<path>.corrupt-<ms>` with its WAL. */
export function openBufferDb(path: string, nowMs: number): OpenResult {
  try {
    return { db: prepare(path), movedAside: null };
  } catch (e) {
    if (!isCorrupt(e)) {
      if (e instanceof LwError) throw e;
      throw new LwError(
        BufferError.UNAVAILABLE,
        `cannot open telemetry buffer ${path}: ${(e as Error).message}; check that state.dir is writable and has space`,
        { cause: e },
      );
    }
    const aside = `${path}.corrupt-${nowMs}`;
    for (const suffix of ['', '-wal', '-shm']) {
      if (existsSync(path + suffix)) renameSync(path + suffix, aside + suffix);
    }
    try {
      return { db: prepare(path), movedAside: aside };
    } catch (e2) {
      throw new LwError(
        BufferError.UNAVAILABLE,
        `telemetry buffer ${path} was corrupt (moved to ${aside}) and a fresh one could not be created: ${(e2 as Error).message}`,
        { cause: e2 },
      );
    }
  }
}
