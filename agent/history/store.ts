/** History persistence in ctx.stateDb (`history_` tables: buffer samples, node actions) and read-only reads of the probe, link and route tables. */
import type { Database, Statement } from 'better-sqlite3';

/** Recorded rows (buffer samples, node actions) older than this are pruned: the page shows 24 h, `--since` may ask for up to 48 h. */
export const HISTORY_RETENTION_MS = 48 * 3_600_000;

/** One buffer sample as the recorder takes it once a minute. */
export interface BufferSampleRow {
  atMs: number;
  records: number;
  bytes: number;
  /** Age of the oldest record waiting (s); null when nothing waits. */
  oldestAgeS: number | null;
  /** True when a sink was failing (retrying) at that moment. */
  sinkFailing: boolean;
}

/** A change of the decorations linkward applied to its Node (from the node component's status). */
export interface NodeActionRow {
  atMs: number;
  /** What changed, in words ("cordoned; taint linkward.io/link-down:NoSchedule added"). */
  summary: string;
  /** Fingerprint of the applied decorations after the change (JSON), compared to detect the next change. */
  applied: string;
}

export interface ProbeRow {
  uplink: string;
  kind: string;
  atMs: number;
  sample: string;
}

export interface TransitionRow {
  uplink: string | null;
  from: string;
  to: string;
  atMs: number;
  reasons: string[];
}

export interface FailoverRow {
  atMs: number;
  from: string | null;
  to: string;
  reason: string;
  result: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS history_buffer (
  at_ms INTEGER PRIMARY KEY,
  records INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  oldest_age_s REAL,          -- NULL: nothing waiting
  sink_failing INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS history_node_actions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at_ms INTEGER NOT NULL,
  summary TEXT NOT NULL,
  applied TEXT NOT NULL       -- JSON fingerprint of the decorations after the change
);
CREATE INDEX IF NOT EXISTS history_node_actions_at ON history_node_actions (at_ms);`;

function parseReasons(text: string): string[] {
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v.map(String) : [];
  } catch {
    return [];
  }
}

/**
 * History tables plus reads of other packages' tables. Those tables are created by their own stores, which may not
 * run (probes disabled, first start): a missing table reads as no rows, checked per call.
 */
export class HistoryStore {
  readonly #db: Database;
  // Statements are prepared once and kept (better-sqlite3 12 on Node 24 can abort when a collected Statement is finalized).
  readonly #insBuffer: Statement<[number, number, number, number | null, number]>;
  readonly #insAction: Statement<[number, string, string]>;
  readonly #lastAction: Statement<[], { applied: string }>;
  readonly #buffer: Statement<[number, number], { at_ms: number; records: number; bytes: number; oldest_age_s: number | null; sink_failing: number }>;
  readonly #actions: Statement<[number, number], { at_ms: number; summary: string; applied: string }>;
  readonly #pruneBuffer: Statement<[number]>;
  readonly #pruneActions: Statement<[number]>;
  readonly #hasTable: Statement<[string], { n: number }>;
  readonly #foreign = new Map<string, Statement>();

  constructor(db: Database) {
    this.#db = db;
    db.exec(SCHEMA);
    this.#insBuffer = db.prepare('INSERT OR REPLACE INTO history_buffer (at_ms, records, bytes, oldest_age_s, sink_failing) VALUES (?, ?, ?, ?, ?)');
    this.#insAction = db.prepare('INSERT INTO history_node_actions (at_ms, summary, applied) VALUES (?, ?, ?)');
    this.#lastAction = db.prepare('SELECT applied FROM history_node_actions ORDER BY id DESC LIMIT 1');
    this.#buffer = db.prepare('SELECT at_ms, records, bytes, oldest_age_s, sink_failing FROM history_buffer WHERE at_ms >= ? AND at_ms <= ? ORDER BY at_ms');
    this.#actions = db.prepare('SELECT at_ms, summary, applied FROM history_node_actions WHERE at_ms >= ? AND at_ms <= ? ORDER BY id');
    this.#pruneBuffer = db.prepare('DELETE FROM history_buffer WHERE at_ms < ?');
    // the newest action is kept whatever its age: it is the reference the next change is compared with
    this.#pruneActions = db.prepare('DELETE FROM history_node_actions WHERE at_ms < ? AND id < (SELECT MAX(id) FROM history_node_actions)');
    this.#hasTable = db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?");
  }

  recordBuffer(s: BufferSampleRow): void {
    this.#insBuffer.run(s.atMs, Math.round(s.records), Math.round(s.bytes), s.oldestAgeS, s.sinkFailing ? 1 : 0);
  }

  recordNodeAction(a: NodeActionRow): void {
    this.#insAction.run(a.atMs, a.summary, a.applied);
  }

  /** Fingerprint of the last recorded node action (survives restarts), null when none. */
  lastApplied(): string | null {
    return this.#lastAction.get()?.applied ?? null;
  }

  bufferSamples(sinceMs: number, untilMs: number): BufferSampleRow[] {
    return this.#buffer
      .all(sinceMs, untilMs)
      .map((r) => ({ atMs: r.at_ms, records: r.records, bytes: r.bytes, oldestAgeS: r.oldest_age_s, sinkFailing: r.sink_failing === 1 }));
  }

  nodeActions(sinceMs: number, untilMs: number): NodeActionRow[] {
    return this.#actions.all(sinceMs, untilMs).map((r) => ({ atMs: r.at_ms, summary: r.summary, applied: r.applied }));
  }

  /** Deletes recorded rows older than HISTORY_RETENTION_MS; returns rows deleted. */
  prune(nowMs: number): number {
    const cutoff = nowMs - HISTORY_RETENTION_MS;
    return this.#db.transaction(() => this.#pruneBuffer.run(cutoff).changes + this.#pruneActions.run(cutoff).changes)();
  }

  /** Probe results in the window, oldest first (the JSON sample is parsed by the caller). */
  probeSamples(sinceMs: number, untilMs: number): ProbeRow[] {
    const rows = this.#read<{ uplink: string; kind: string; at_ms: number; sample: string }>(
      'probe_samples',
      'SELECT uplink, kind, at_ms, sample FROM probe_samples WHERE at_ms >= ? AND at_ms <= ? ORDER BY at_ms, id',
      sinceMs,
      untilMs,
    );
    return rows.map((r) => ({ uplink: r.uplink, kind: r.kind, atMs: r.at_ms, sample: r.sample }));
  }

  transitions(sinceMs: number, untilMs: number): TransitionRow[] {
    const rows = this.#read<{ uplink: string | null; from_health: string; to_health: string; at_ms: number; reasons: string }>(
      'link_transitions',
      'SELECT uplink, from_health, to_health, at_ms, reasons FROM link_transitions WHERE at_ms >= ? AND at_ms <= ? ORDER BY at_ms, id',
      sinceMs,
      untilMs,
    );
    return rows.map((r) => ({ uplink: r.uplink, from: r.from_health, to: r.to_health, atMs: r.at_ms, reasons: parseReasons(r.reasons) }));
  }

  failovers(sinceMs: number, untilMs: number): FailoverRow[] {
    const rows = this.#read<{ at_ms: number; from_uplink: string | null; to_uplink: string; reason: string; result: string }>(
      'route_history',
      'SELECT at_ms, from_uplink, to_uplink, reason, result FROM route_history WHERE at_ms >= ? AND at_ms <= ? ORDER BY at_ms, id',
      sinceMs,
      untilMs,
    );
    return rows.map((r) => ({ atMs: r.at_ms, from: r.from_uplink, to: r.to_uplink, reason: r.reason, result: r.result }));
  }

  #read<R>(table: string, sql: string, sinceMs: number, untilMs: number): R[] {
    if ((this.#hasTable.get(table)?.n ?? 0) === 0) return [];
    let s = this.#foreign.get(sql);
    if (!s) this.#foreign.set(sql, (s = this.#db.prepare(sql)));
    return s.all(sinceMs, untilMs) as R[];
  }
}
