/** Persistence of the route component in ctx.stateDb (`route_` tables): policy state, pending switch, routes linkward manages, history. */
import type { Database } from 'better-sqlite3';
import type { PolicyState, SwitchReason } from './policy.ts';

/** Switches kept in history (status shows the last few; the table must stay small). */
export const HISTORY_ROWS = 200;

/** A switch applied but not yet confirmed (if the agent dies now, the next start must revert it). */
export interface PendingSwitch {
  from: string | null;
  to: string;
  reason: SwitchReason;
  planFile: string;
  startedMs: number;
}

export interface SwitchRecord {
  atMs: number;
  from: string | null;
  to: string;
  reason: string;
  result: 'confirmed' | 'rolled-back' | 'applied';
  detail: string;
}

export interface RouteStore {
  loadPolicy(): PolicyState | null;
  savePolicy(s: PolicyState): void;
  loadPending(): PendingSwitch | null;
  savePending(p: PendingSwitch | null): void;
  /** `ip` lines of what linkward installed on the last successful reconcile. */
  loadManaged(): string[];
  saveManaged(lines: readonly string[]): void;
  /** Interfaces linkward took down (idle-down) and must bring back up. */
  loadDownByUs(): string[];
  saveDownByUs(devs: readonly string[]): void;
  record(r: SwitchRecord): void;
  history(limit: number): SwitchRecord[];
}

export function createRouteStore(db: Database): RouteStore {
  db.exec(`CREATE TABLE IF NOT EXISTS route_kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS route_history (id INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL, from_uplink TEXT, to_uplink TEXT NOT NULL, reason TEXT NOT NULL, result TEXT NOT NULL, detail TEXT NOT NULL);`);
  const get = db.prepare<[string], { value: string }>('SELECT value FROM route_kv WHERE key = ?');
  const put = db.prepare<[string, string]>('INSERT INTO route_kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
  const del = db.prepare<[string]>('DELETE FROM route_kv WHERE key = ?');
  const ins = db.prepare<[number, string | null, string, string, string, string]>('INSERT INTO route_history (at_ms, from_uplink, to_uplink, reason, result, detail) VALUES (?, ?, ?, ?, ?, ?)');
  const trim = db.prepare<[number]>('DELETE FROM route_history WHERE id <= (SELECT MAX(id) FROM route_history) - ?');
  const hist = db.prepare<[number], { at_ms: number; from_uplink: string | null; to_uplink: string; reason: string; result: SwitchRecord['result']; detail: string }>('SELECT * FROM route_history ORDER BY id DESC LIMIT ?');
  const read = <T>(key: string, fallback: T): T => {
    const row = get.get(key);
    if (!row) return fallback;
    try {
      return JSON.parse(row.value) as T;
    } catch {
      return fallback;
    }
  };
  const write = (key: string, v: unknown): void => {
    if (v === null) del.run(key);
    else put.run(key, JSON.stringify(v));
  };
  return {
    loadPolicy: () => read<PolicyState | null>('policy', null),
    savePolicy: (s) => write('policy', s),
    loadPending: () => read<PendingSwitch | null>('pending', null),
    savePending: (p) => write('pending', p),
    loadManaged: () => read<string[]>('managed', []),
    saveManaged: (l) => write('managed', l),
    loadDownByUs: () => read<string[]>('down_by_us', []),
    saveDownByUs: (d) => write('down_by_us', d),
    record(r) {
      ins.run(r.atMs, r.from, r.to, r.reason, r.result, r.detail);
      trim.run(HISTORY_ROWS);
    },
    history: (limit) => hist.all(limit).map((h) => ({ atMs: h.at_ms, from: h.from_uplink, to: h.to_uplink, reason: h.reason, result: h.result, detail: h.detail })),
  };
}
