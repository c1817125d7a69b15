/** Persistence of the link state in ctx.stateDb (`link_` tables): transition history and damping penalties. */
import type { Database, Statement } from 'better-sqlite3';
import type { LinkHealth } from '../core/types.ts';
import type { DampingState } from '../core/damping.ts';
import type { Transition } from '../core/link-state.ts';

/** Transitions kept in the history table: at most a few per hour on a sane link, so ~1000 covers weeks. */
export const MAX_TRANSITIONS_KEPT = 1_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS link_transitions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  uplink TEXT,              -- NULL: the node
  from_health TEXT NOT NULL,
  to_health TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  reasons TEXT NOT NULL     -- JSON array of strings
);
CREATE TABLE IF NOT EXISTS link_damping (
  uplink TEXT PRIMARY KEY,
  penalty REAL NOT NULL,
  at_ms INTEGER NOT NULL,
  suppressed INTEGER NOT NULL,
  last_flap_ms INTEGER      -- when the last flap counted (bounds the hold after a restart); NULL: none
);`;

interface TransitionRow {
  uplink: string | null;
  from_health: LinkHealth;
  to_health: LinkHealth;
  at_ms: number;
  reasons: string;
}

interface DampingRow {
  uplink: string;
  penalty: number;
  at_ms: number;
  suppressed: number;
  last_flap_ms: number | null;
}

/** Link tables on the shared state DB. Every method may throw on disk errors; the component catches and logs. */
export class LinkStore {
  readonly #db: Database;
  // Statements are prepared once and kept for the DB's lifetime: cheaper, and better-sqlite3 12 on Node 24 can
  // abort the process when a garbage-collected Statement is finalized (RemoveEnvironmentCleanupHook: env != nullptr).
  readonly #insert: Statement<[string | null, string, string, number, string]>;
  readonly #prune: Statement<[number]>;
  readonly #recent: Statement<[number], TransitionRow>;
  readonly #upsert: Statement<[string, number, number, number, number | null]>;
  readonly #loadDamping: Statement<[], DampingRow>;

  constructor(db: Database) {
    this.#db = db;
    db.exec(SCHEMA);
    // state databases from before last_flap_ms: add the column (a restart must keep the hold's bound)
    const cols = db.prepare<[], { name: string }>("SELECT name FROM pragma_table_info('link_damping')").all();
    if (!cols.some((c) => c.name === 'last_flap_ms')) db.exec('ALTER TABLE link_damping ADD COLUMN last_flap_ms INTEGER');
    this.#insert = db.prepare('INSERT INTO link_transitions (uplink, from_health, to_health, at_ms, reasons) VALUES (?, ?, ?, ?, ?)');
    this.#prune = db.prepare('DELETE FROM link_transitions WHERE id <= (SELECT MAX(id) FROM link_transitions) - ?');
    this.#recent = db.prepare('SELECT uplink, from_health, to_health, at_ms, reasons FROM link_transitions ORDER BY id DESC LIMIT ?');
    this.#upsert = db.prepare(
      'INSERT INTO link_damping (uplink, penalty, at_ms, suppressed, last_flap_ms) VALUES (?, ?, ?, ?, ?) ON CONFLICT(uplink) DO UPDATE SET penalty = excluded.penalty, at_ms = excluded.at_ms, suppressed = excluded.suppressed, last_flap_ms = excluded.last_flap_ms',
    );
    this.#loadDamping = db.prepare('SELECT uplink, penalty, at_ms, suppressed, last_flap_ms FROM link_damping');
  }

  /** Appends transitions and prunes the history to MAX_TRANSITIONS_KEPT rows, in one transaction. */
  saveTransitions(list: readonly Transition[]): void {
    if (list.length === 0) return;
    this.#db.transaction(() => {
      for (const t of list) this.#insert.run(t.uplink, t.from, t.to, t.atMs, JSON.stringify(t.reasons));
      this.#prune.run(MAX_TRANSITIONS_KEPT);
    })();
  }

  /** Newest first. */
  recentTransitions(limit: number): Transition[] {
    const rows = this.#recent.all(limit);
    return rows.map((r) => ({ uplink: r.uplink, from: r.from_health, to: r.to_health, atMs: r.at_ms, reasons: parseReasons(r.reasons) }));
  }

  saveDamping(byUplink: Readonly<Record<string, DampingState>>): void {
    this.#db.transaction(() => {
      for (const [uplink, d] of Object.entries(byUplink)) this.#upsert.run(uplink, d.penalty, d.atMs, d.suppressed ? 1 : 0, d.lastFlapMs ?? null);
    })();
  }

  loadDamping(): Record<string, DampingState> {
    const rows = this.#loadDamping.all();
    const out: Record<string, DampingState> = {};
    for (const r of rows) {
      if (Number.isFinite(r.penalty) && Number.isFinite(r.at_ms))
        out[r.uplink] = {
          penalty: r.penalty,
          atMs: r.at_ms,
          suppressed: r.suppressed === 1,
          ...(typeof r.last_flap_ms === 'number' ? { lastFlapMs: r.last_flap_ms } : {}),
        };
    }
    return out;
  }
}

function parseReasons(text: string): string[] {
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v.map(String) : [];
  } catch {
    return [];
  }
}
