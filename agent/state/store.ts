/** State directory: creates it, checks it is writable, takes the single-instance lock, opens state.db (WAL); a corrupt state.db is moved aside. */
import Database from 'better-sqlite3';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, LwError, isSqliteCorrupt } from '../base/errors.ts';

/** How long a second instance waits for the lock before giving up (the holder never lets go while alive). */
const LOCK_BUSY_TIMEOUT_MS = 200;
/** Busy timeout for the shared state DB: components write from one thread, so waits are short. */
const STATE_BUSY_TIMEOUT_MS = 5_000;
/** Page cache of state.db in KiB (SQLite's stock size; the tables hold probe results and small state, not bulk data). */
const STATE_CACHE_SIZE_KIB = 2_048;

export interface StateHandle {
  dir: string;
  db: Database.Database;
  /** Where a corrupt state.db was moved at open (`state.db.corrupt-<ms>`), null when it was fine or new. */
  quarantinedTo: string | null;
  /** Releases the lock and closes the databases (idempotent). */
  close(): void;
}

/** Creates `dir` if needed and verifies write access; throws LW_STATE_DIR_UNWRITABLE with a fix. */
export function prepareStateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o750 });
    accessSync(dir, constants.W_OK | constants.R_OK | constants.X_OK);
  } catch (cause) {
    throw new LwError(
      ErrorCode.STATE_DIR_UNWRITABLE,
      `state directory ${dir} is not writable (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}); set state.dir to a writable directory or fix its owner/permissions`,
      { cause, context: { dir } },
    );
  }
}

/**
 * Takes the single-instance lock: an SQLite file in EXCLUSIVE locking mode with an open write
 * transaction. The kernel drops the lock when the process dies (kill -9 included), so there are no
 * stale lock files to clean up.
 */
function takeLock(dir: string): Database.Database {
  const lockPath = join(dir, 'linkward.lock');
  const pidPath = join(dir, 'linkward.pid');
  const lock = new Database(lockPath, { timeout: LOCK_BUSY_TIMEOUT_MS });
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER, since INTEGER)');
    lock.exec('BEGIN EXCLUSIVE');
    lock.prepare('DELETE FROM holder').run();
    lock.prepare('INSERT INTO holder VALUES (?, ?)').run(process.pid, Date.now());
  } catch (cause) {
    lock.close();
    const code = (cause as { code?: string }).code ?? '';
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      let holder = 'another process';
      try {
        holder = `pid ${readFileSync(pidPath, 'utf8').trim()}`;
      } catch {
        /* pid file is informational only */
      }
      throw new LwError(
        ErrorCode.STATE_LOCKED,
        `state directory ${dir} is in use by another linkward (${holder}); stop it first or use a different state.dir`,
        { cause, context: { dir } },
      );
    }
    throw new LwError(ErrorCode.STATE_DB_FAILED, `cannot create lock in ${dir}: ${(cause as Error).message}`, { cause });
  }
  writeFileSync(pidPath, `${process.pid}\n`);
  return lock;
}

/** Opens state.db with its pragmas and checks it (quick_check); throws SQLite's error on a damaged file. */
function openDb(path: string): Database.Database {
  const db = new Database(path, { timeout: STATE_BUSY_TIMEOUT_MS });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    // better-sqlite3 builds SQLite with a 16 MB page cache per connection; the state tables are small, 2 MiB bounds it.
    db.pragma(`cache_size = -${STATE_CACHE_SIZE_KIB}`);
    const check: unknown = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw Object.assign(new Error(`quick_check: ${String(check)}`), { code: 'SQLITE_CORRUPT' });
    db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/**
 * Opens the state directory for the daemon: lock + state.db. A damaged state.db (with its -wal and -shm) is renamed
 * to `state.db.corrupt-<nowMs>` and replaced by a new one, as buffer.db is: it holds probe history and small state
 * that linkward rebuilds (a new measurement before any verdict), and an agent that refuses to start until a person
 * moves a file leaves the site without its monitor.
 */
export function openState(dir: string, nowMs: number): StateHandle {
  prepareStateDir(dir);
  const lock = takeLock(dir);
  const path = join(dir, 'state.db');
  let db: Database.Database;
  let quarantinedTo: string | null = null;
  try {
    try {
      db = openDb(path);
    } catch (e) {
      if (!isSqliteCorrupt(e)) throw e;
      quarantinedTo = `${path}.corrupt-${nowMs}`;
      for (const suffix of ['', '-wal', '-shm']) if (existsSync(path + suffix)) renameSync(path + suffix, quarantinedTo + suffix);
      db = openDb(path);
    }
  } catch (cause) {
    lock.close();
    const moved = quarantinedTo ? ` (a corrupt state.db was moved to ${quarantinedTo})` : '';
    throw new LwError(ErrorCode.STATE_DB_FAILED, `cannot open ${path}${moved}: ${(cause as Error).message}; check that state.dir is writable and has space`, {
      cause,
    });
  }
  let closed = false;
  return {
    dir,
    db,
    quarantinedTo,
    close(): void {
      if (closed) return;
      closed = true;
      try {
        db.close();
      } finally {
        lock.close();
      }
    },
  };
}
