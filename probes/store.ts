/** Probe persistence in the shared state DB: results (with retention) and bytes used per uplink, UTC day and kind. */
import type { Database } from 'better-sqlite3';
import type { ProbeKind, ProbeSample } from '../agent/core/types.ts';
import { utcDay } from './budget.ts';

/** Byte-usage rows are kept this long (a month of history for `linkward status` and audits). */
export const USAGE_RETENTION_DAYS = 35;
const DAY_MS = 86_400_000;

export class ProbeStore {
  readonly #db: Database;
  readonly #insertSample;
  readonly #addUsage;
  readonly #usedOn;
  readonly #usedByKind;
  readonly #latest;
  readonly #foldFuture;
  readonly #dropFuture;

  constructor(db: Database) {
    this.#db = db;
    db.exec(`
      CREATE TABLE IF NOT EXISTS probe_samples (
        id INTEGER PRIMARY KEY,
        uplink TEXT NOT NULL,
        kind TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        sample TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS probe_samples_uplink_at ON probe_samples (uplink, kind, at_ms);
      CREATE INDEX IF NOT EXISTS probe_samples_at ON probe_samples (at_ms);
      CREATE TABLE IF NOT EXISTS probe_usage (
        uplink TEXT NOT NULL,
        day TEXT NOT NULL,
        kind TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        PRIMARY KEY (uplink, day, kind)
      );`);
    this.#insertSample = db.prepare<[string, string, number, string]>('INSERT INTO probe_samples (uplink, kind, at_ms, sample) VALUES (?, ?, ?, ?)');
    this.#addUsage = db.prepare<[string, string, string, number]>(
      'INSERT INTO probe_usage (uplink, day, kind, bytes) VALUES (?, ?, ?, ?) ON CONFLICT (uplink, day, kind) DO UPDATE SET bytes = bytes + excluded.bytes',
    );
    // `day >= today`: bytes booked on a later day (a clock that was ahead) count today; see #fold.
    this.#usedOn = db.prepare<[string, string], { total: number | null }>('SELECT SUM(bytes) AS total FROM probe_usage WHERE uplink = ? AND day >= ?');
    this.#usedByKind = db.prepare<[string, string], { kind: string; bytes: number }>(
      'SELECT kind, SUM(bytes) AS bytes FROM probe_usage WHERE uplink = ? AND day >= ? GROUP BY kind',
    );
    this.#foldFuture = db.prepare<[string, string]>(
      'INSERT INTO probe_usage (uplink, day, kind, bytes) SELECT uplink, ?, kind, SUM(bytes) FROM probe_usage WHERE day > ? GROUP BY uplink, kind ' +
        'ON CONFLICT (uplink, day, kind) DO UPDATE SET bytes = bytes + excluded.bytes',
    );
    this.#dropFuture = db.prepare<[string]>('DELETE FROM probe_usage WHERE day > ?');
    this.#latest = db.prepare<[string, string], { sample: string }>(
      'SELECT sample FROM probe_samples WHERE uplink = ? AND kind = ? ORDER BY at_ms DESC, id DESC LIMIT 1',
    );
  }

  /**
   * Moves bytes booked on days after `day` onto `day`. Usage is keyed by the box clock's UTC day, and an edge box's
   * clock is often ahead until NTP steps it back: its bytes would sit on a future day, so that today's budget missed
   * them (a metered link spending up to twice its budget) and the real day, when it came, started already spent.
   * Folded at each write (and read as `day >= today` until then), they count once, against the day they were spent.
   */
  #fold(day: string): void {
    this.#foldFuture.run(day, day);
    this.#dropFuture.run(day);
  }

  /** Stores a completed round and counts its bytes against the uplink's day (one transaction). */
  record(s: ProbeSample): void {
    this.#db.transaction(() => {
      this.#insertSample.run(s.uplink, s.kind, s.atMs, JSON.stringify(s));
      if (s.bytesUsed > 0) this.#add(s.uplink, s.kind, s.bytesUsed, s.atMs);
    })();
  }

  /** Counts bytes without storing a result (e.g. light rounds stored at a lower cadence). */
  addUsage(uplink: string, kind: ProbeKind, bytes: number, nowMs: number): void {
    if (bytes > 0) this.#db.transaction(() => this.#add(uplink, kind, bytes, nowMs))();
  }

  #add(uplink: string, kind: ProbeKind, bytes: number, nowMs: number): void {
    const day = utcDay(nowMs);
    this.#fold(day);
    this.#addUsage.run(uplink, day, kind, Math.round(bytes));
  }

  /** Stores a result without counting bytes (already counted with addUsage). */
  storeOnly(s: ProbeSample): void {
    this.#insertSample.run(s.uplink, s.kind, s.atMs, JSON.stringify(s));
  }

  /** Bytes used by an uplink on the UTC day of `nowMs`. */
  usedToday(uplink: string, nowMs: number): number {
    return this.#usedOn.get(uplink, utcDay(nowMs))?.total ?? 0;
  }

  /** Bytes used today per kind. */
  usedTodayByKind(uplink: string, nowMs: number): Record<string, number> {
    return Object.fromEntries(this.#usedByKind.all(uplink, utcDay(nowMs)).map((r) => [r.kind, r.bytes]));
  }

  /** Latest stored result of a kind (survives restarts). */
  latest(uplink: string, kind: ProbeKind): ProbeSample | undefined {
    const row = this.#latest.get(uplink, kind);
    return row ? (JSON.parse(row.sample) as ProbeSample) : undefined;
  }

  /** Deletes results older than `retentionDays` and usage older than USAGE_RETENTION_DAYS; returns rows deleted. */
  prune(nowMs: number, retentionDays: number): number {
    const a = this.#db.prepare('DELETE FROM probe_samples WHERE at_ms < ?').run(nowMs - retentionDays * DAY_MS).changes;
    const b = this.#db.prepare('DELETE FROM probe_usage WHERE day < ?').run(utcDay(nowMs - USAGE_RETENTION_DAYS * DAY_MS)).changes;
    return a + b;
  }
}
