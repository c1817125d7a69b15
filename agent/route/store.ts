/** Persistence of the route component in ctx.stateDb (`route_` tables): policy state, pending switch, routes linkward manages, history. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Database as Db, Statement } from 'better-sqlite3';
import type { OriginalDefaults } from './restore.ts';
import type { PolicyState, SwitchReason } from './policy.ts';

/** Switches kept in history (status shows the last few; the table must stay small). */
export const HISTORY_ROWS = 200;

/** A switch applied but not yet confirmed (if the agent dies now, the next start must revert it). */
/** route_kv key of the default routes found before linkward. */
const ORIGINALS_KEY = 'original_defaults';

/**
 * The remembered original default routes, read without the daemon (`linkward route cleanup`): opens state.db read-only
 * and creates nothing; [] when there is no database, no table or no entry.
 */
export async function readOriginalDefaults(stateDir: string): Promise<OriginalDefaults> {
  const file = join(stateDir, 'state.db');
  if (!existsSync(file)) return asOriginals(null);
  try {
    // Loaded here only: the CLI's other route commands never open SQLite.
    const { default: Database } = await import('better-sqlite3');
    // Not closed: the CLI exits right after, and closing with a Statement awaiting GC can abort Node 24 (see `cache`).
    const db = new Database(file, { readonly: true, fileMustExist: true });
    const row = stmt<[string], { value: string }>(db, 'SELECT value FROM route_kv WHERE key = ?').get(ORIGINALS_KEY);
    return asOriginals(row ? JSON.parse(row.value) : null);
  } catch {
    return asOriginals(null);
  }
}

/** A stored value as OriginalDefaults; anything else (absent, corrupt) is "nothing remembered". */
function asOriginals(v: unknown): OriginalDefaults {
  const o = v as Partial<OriginalDefaults> | null;
  return o && Array.isArray(o.families) && Array.isArray(o.routes) ? { families: o.families, routes: o.routes } : { families: [], routes: [] };
}

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
  /** The policy state last saved, as parsed JSON (null: none); restoredPolicy() checks its shape. */
  loadPolicy(): unknown;
  savePolicy(s: PolicyState): void;
  loadPending(): PendingSwitch | null;
  savePending(p: PendingSwitch | null): void;
  /** `ip` lines of what linkward installed on the last successful reconcile. */
  loadManaged(): string[];
  saveManaged(lines: readonly string[]): void;
  /** Interfaces linkward took down (idle-down) and must bring back up. */
  loadDownByUs(): string[];
  saveDownByUs(devs: readonly string[]): void;
  /** Until when each uplink's IPv6 follow-up is held after a failed one (epoch ms), so a restart keeps the hold. */
  loadIpv6Holds(): Record<string, number>;
  saveIpv6Holds(h: Readonly<Record<string, number>>): void;
  /** The main default routes found before linkward changed anything (restored on stop and by `route cleanup`). */
  loadOriginalDefaults(): OriginalDefaults;
  saveOriginalDefaults(o: OriginalDefaults): void;
  record(r: SwitchRecord): void;
  history(limit: number): SwitchRecord[];
}

/**
 * Prepared statements are cached per handle and kept alive: letting better-sqlite3 12.9 Statement objects be
 * garbage-collected aborts Node 24 ("Assertion failed: (env) != nullptr", seen in tests opening several databases).
 */
const cache = new Map<Db, Map<string, Statement>>();

function stmt<P extends unknown[], R = unknown>(db: Db, sql: string): Statement<P, R> {
  let m = cache.get(db);
  if (!m) cache.set(db, (m = new Map()));
  let s = m.get(sql);
  if (!s) m.set(sql, (s = db.prepare(sql)));
  return s as unknown as Statement<P, R>;
}

/** A stored hold map, or an empty one when the value is not `{ uplink: finite number }`. */
function asHolds(v: unknown): Record<string, number> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
  return Object.fromEntries(Object.entries(v).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1])));
}

/** A stored list of names or `ip` lines: anything else reads as empty, and entries that are not strings are left out. */
function asStrings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** A stored pending switch, or null when there is none or it is not one (the revert helper still reverts on its own). */
function asPending(v: unknown): PendingSwitch | null {
  if (typeof v !== 'object' || v === null) return null;
  const p = v as Record<string, unknown>;
  const ok =
    typeof p.to === 'string' &&
    (p.from === null || typeof p.from === 'string') &&
    typeof p.reason === 'string' &&
    typeof p.planFile === 'string' &&
    typeof p.startedMs === 'number';
  return ok ? (p as unknown as PendingSwitch) : null;
}

export function createRouteStore(db: Db): RouteStore {
  db.exec(`CREATE TABLE IF NOT EXISTS route_kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS route_history (id INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL, from_uplink TEXT, to_uplink TEXT NOT NULL, reason TEXT NOT NULL, result TEXT NOT NULL, detail TEXT NOT NULL);`);
  const get = { get: (k: string) => stmt<[string], { value: string }>(db, 'SELECT value FROM route_kv WHERE key = ?').get(k) };
  const put = {
    run: (k: string, v: string) =>
      stmt<[string, string]>(db, 'INSERT INTO route_kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(k, v),
  };
  const del = { run: (k: string) => stmt<[string]>(db, 'DELETE FROM route_kv WHERE key = ?').run(k) };
  const ins = {
    run: (...a: [number, string | null, string, string, string, string]) =>
      stmt<[number, string | null, string, string, string, string]>(
        db,
        'INSERT INTO route_history (at_ms, from_uplink, to_uplink, reason, result, detail) VALUES (?, ?, ?, ?, ?, ?)',
      ).run(...a),
  };
  const trim = { run: (n: number) => stmt<[number]>(db, 'DELETE FROM route_history WHERE id <= (SELECT MAX(id) FROM route_history) - ?').run(n) };
  const hist = {
    all: (n: number) =>
      stmt<[number], { at_ms: number; from_uplink: string | null; to_uplink: string; reason: string; result: SwitchRecord['result']; detail: string }>(
        db,
        'SELECT * FROM route_history ORDER BY id DESC LIMIT ?',
      ).all(n),
  };
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
    loadPolicy: () => read<unknown>('policy', null),
    savePolicy: (s) => write('policy', s),
    loadPending: () => asPending(read<unknown>('pending', null)),
    savePending: (p) => write('pending', p),
    loadManaged: () => asStrings(read<unknown>('managed', null)),
    saveManaged: (l) => write('managed', l),
    loadDownByUs: () => asStrings(read<unknown>('down_by_us', null)),
    saveDownByUs: (d) => write('down_by_us', d),
    loadIpv6Holds: () => asHolds(read<unknown>('ipv6_holds', null)),
    saveIpv6Holds: (h) => write('ipv6_holds', h),
    loadOriginalDefaults: () => asOriginals(read<unknown>(ORIGINALS_KEY, null)),
    saveOriginalDefaults: (r) => write(ORIGINALS_KEY, r),
    record(r) {
      ins.run(r.atMs, r.from, r.to, r.reason, r.result, r.detail);
      trim.run(HISTORY_ROWS);
    },
    history: (limit) =>
      hist.all(limit).map((h) => ({ atMs: h.at_ms, from: h.from_uplink, to: h.to_uplink, reason: h.reason, result: h.result, detail: h.detail })),
  };
}
