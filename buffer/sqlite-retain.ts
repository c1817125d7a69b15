/** Keeps better-sqlite3 handles reachable for the process lifetime: on Node 24, GC of a 12.x Statement/Database aborts the process. */
import type { Database as Db, Statement } from 'better-sqlite3';

/**
 * better-sqlite3 ≤ 12 derives its objects from node::ObjectWrap, whose Node 24 destructor CHECKs for a
 * current Environment; an idle GC finalising a Statement or Database aborts with
 * "Assertion failed: (env) != nullptr" (WiseLibs/better-sqlite3#1515, fixed by the N-API rewrite in 13.x).
 * Until the dependency moves to 13.x, every handle this package creates is kept here and never collected.
 * Only a bounded set exists: statements are prepared once per opened file.
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
