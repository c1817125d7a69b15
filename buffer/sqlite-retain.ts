/** Keeps better-sqlite3 handles reachable for the life of the process (statements are prepared once per file anyway). */
import type { Database as Db, Statement } from 'better-sqlite3';

/**
 * better-sqlite3 ≤ 12 derived its objects from node::ObjectWrap, whose Node 24 destructor CHECKs for a
 * current Environment: an idle GC finalising a Statement aborted the process with "Assertion failed:
 * (env) != nullptr" (WiseLibs/better-sqlite3#1515). 13.x (N-API, now in package.json) fixed that; the
 * buffer still prepares every statement once and keeps it, which costs nothing and stays safe if the
 * dependency is ever pinned back. Only a bounded set exists: one per statement per opened file.
 */
const RETAINED: unknown[] = [];

/** Marks a handle as never collectable and returns it. */
export function retain<T>(handle: T): T {
  RETAINED.push(handle);
  return handle;
}

/** Prepares and retains a statement. */
export function prepareKept(db: Db, sql: string): Statement {
  return retain(db.prepare(sql));
}

/** Runs a PRAGMA through a retained statement (db.pragma() would leave a collectable Statement behind). */
export function pragmaKept(db: Db, text: string): unknown[] {
  const stmt = prepareKept(db, `PRAGMA ${text}`);
  return stmt.reader ? stmt.all() : (stmt.run(), []);
}

/** First column of the first row of a PRAGMA (like db.pragma(text, { simple: true })). */
export function pragmaValue(db: Db, text: string): unknown {
  const row = pragmaKept(db, text)[0] as Record<string, unknown> | undefined;
  return row === undefined ? undefined : Object.values(row)[0];
}
