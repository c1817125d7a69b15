/** State directory: creates it, checks it is writable, takes the single-instance lock, opens state.db (WAL). */
import Database from 'better-sqlite3';
import { accessSync, constants, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, LwError } from '../errors.ts';

/** How long a second instance waits for the lock before giving up (the holder never lets go while alive). */
const LOCK_BUSY_TIMEOUT_MS = 200;
/** Busy timeout for the shared state DB: components write from one thread, so waits are short. */
const STATE_BUSY_TIMEOUT_MS = 5_000;
/** Page cache of state.db in KiB (SQLite's stock size; the tables hold probe results and small state, not bulk data). */
const STATE_CACHE_SIZE_KIB = 2_048;

export interface StateHandle {
  dir: string;
  db: Database.Database;
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
      throw new LwError(ErrorCode.STATE_LOCKED, `state directory ${dir} is in use by another linkward (${holder}); stop it first or use a different state.dir`, { cause, context: { dir } });
    }
    throw new LwError(ErrorCode.STATE_DB_FAILED, `cannot create lock in ${dir}: ${(cause as Error).message}`, { cause });
  }
  writeFileSync(pidPath, `${process.pid}\n`);
  return lock;
}

/** Opens the state directory for the daemon: lock + state.db. */
export function openState(dir: string): StateHandle {
  prepareStateDir(dir);
  const lock = takeLock(dir);
  let db: Database.Database;
  try {
    db = new Database(join(dir, 'state.db'), { timeout: STATE_BUSY_TIMEOUT_MS });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    // better-sqlite3 builds SQLite with a 16 MB page cache per connection; the state tables are small, 2 MiB bounds it.
    db.pragma(`cache_size = -${STATE_CACHE_SIZE_KIB}`);
    db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
  } catch (cause) {
    lock.close();
    throw new LwError(ErrorCode.STATE_DB_FAILED, `cannot open ${join(dir, 'state.db')}: ${(cause as Error).message}; move the file aside if it is corrupt`, { cause });
  }
  let closed = false;
  return {
    dir,
    db,
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
