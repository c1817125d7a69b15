/** Salvage: copies every readable record of a damaged buffer file into the live store (best effort, counted). */
import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import { toRecord, type Row } from './sqlite-rows.ts';
import type { NewRecord, Store } from './types.ts';

/** Rows read per range query; a failing range is re-read one id at a time. */
const SALVAGE_CHUNK = 256;
/** Records appended to the live store per transaction. */
const APPEND_CHUNK = 500;
/** Ids probed beyond the last known one when the file's own counters cannot be read. */
const PROBE_WINDOW = 65_536;

export interface SalvageResult {
  /** Records copied into the live store. */
  copied: number;
  /** Ids whose row could not be read (damaged pages). */
  unreadable: number;
  /** Why nothing could be read at all (null: the file opened). */
  error: string | null;
}

function openDamaged(path: string): Db {
  // Read-only and without touching its WAL index: the file stays as it was found, for inspection.
  return new Database(path, { readonly: true, fileMustExist: true });
}

/** Highest record id the file knows of: MAX(id), else its AUTOINCREMENT counter; null when neither is readable. */
function highestId(db: Db): number | null {
  for (const sql of ['SELECT MAX(id) AS n FROM buf_records', "SELECT seq AS n FROM sqlite_sequence WHERE name = 'buf_records'"]) {
    try {
      const r = db.prepare(sql).get() as Row | undefined;
      if (r && r.n !== null && r.n !== undefined) return Number(r.n);
    } catch {
      /* damaged: try the next source */
    }
  }
  return null;
}

/**
 * Reads `path` (a buffer.db, typically one moved aside as corrupt) range by range; a range that fails is read id by id,
 * so one bad page costs only the rows on it. Readable records go into `store` in their original order with their sink,
 * priority, times and content headers (batches are sealed again). Never throws.
 */
export function salvageFile(path: string, store: Store): SalvageResult {
  let db: Db;
  try {
    db = openDamaged(path);
  } catch (e) {
    return { copied: 0, unreadable: 0, error: (e as Error).message };
  }
  const out: SalvageResult = { copied: 0, unreadable: 0, error: null };
  let pending: NewRecord[] = [];
  const flush = (): void => {
    if (pending.length === 0) return;
    store.appendMany(pending);
    out.copied += pending.length;
    pending = [];
  };
  const take = (r: Row): void => {
    const rec = toRecord(r);
    pending.push({
      sink: rec.sink,
      priority: rec.priority,
      createdMs: rec.createdMs,
      expiresMs: rec.expiresMs,
      contentType: rec.contentType,
      contentEncoding: rec.contentEncoding,
      body: Buffer.from(rec.body),
    });
    if (pending.length >= APPEND_CHUNK) flush();
  };
  try {
    let range: Statement;
    let one: Statement;
    try {
      range = db.prepare('SELECT * FROM buf_records WHERE id > ? AND id <= ? ORDER BY id');
      one = db.prepare('SELECT * FROM buf_records WHERE id = ?');
    } catch (e) {
      return { ...out, error: (e as Error).message };
    }
    const top = highestId(db) ?? PROBE_WINDOW;
    for (let from = 0; from < top; from += SALVAGE_CHUNK) {
      const to = Math.min(top, from + SALVAGE_CHUNK);
      let rows: Row[] | null = null;
      try {
        rows = range.all(from, to) as Row[];
      } catch {
        /* a damaged page in this range: read it row by row */
      }
      if (rows !== null) {
        rows.forEach(take);
        continue;
      }
      for (let id = from + 1; id <= to; id++) {
        try {
          const r = one.get(id) as Row | undefined;
          if (r) take(r);
        } catch {
          out.unreadable += 1;
        }
      }
    }
    flush();
  } catch (e) {
    out.error = (e as Error).message;
  } finally {
    db.close();
  }
  return out;
}
