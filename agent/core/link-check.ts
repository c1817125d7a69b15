/** The link check behind /readyz/link, `linkward check` and `linkward wait`: snapshot + optional narrower thresholds → verdict. Pure. */
import type { LinkHealth, LinkSnapshot } from './types.ts';
import { fmt } from './fmt.ts';

/** Optional narrower requirements (query parameters / CLI flags). Absent = use the daemon's own verdict only. */
export interface LinkCheckQuery {
  minDownMbps?: number;
  minUpMbps?: number;
  maxRttMs?: number;
  maxLossPercent?: number;
  /** Latest measurement must be at most this many seconds old. */
  maxAgeS?: number;
  /** Check this uplink instead of the one the node follows. */
  uplink?: string;
}

export interface LinkCheckResult {
  ok: boolean;
  /** healthy, or degraded when only the narrower thresholds failed; unknown when there is nothing fresh enough. */
  verdict: LinkHealth;
  uplink: string | null;
  reasons: string[];
  /** When the daemon evaluated (ms since epoch), null before the first evaluation. */
  atMs: number | null;
}

/** Query-parameter names as served on /readyz/link (and sent by the CLI). */
export const CHECK_PARAMS = {
  minDown: 'minDownMbps',
  minUp: 'minUpMbps',
  maxRtt: 'maxRttMs',
  maxLoss: 'maxLossPercent',
  maxAge: 'maxAgeS',
} as const satisfies Record<string, keyof LinkCheckQuery>;

/** Parses /readyz/link query parameters; returns the problems (one per bad parameter) instead of throwing. */
export function parseCheckQuery(params: URLSearchParams): { query: LinkCheckQuery; problems: string[] } {
  const query: LinkCheckQuery = {};
  const problems: string[] = [];
  for (const [param, key] of Object.entries(CHECK_PARAMS)) {
    const raw = params.get(param);
    if (raw === null || raw === '') continue;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) problems.push(`${param}=${raw}: must be a non-negative number`);
    else query[key] = n;
  }
  const uplink = params.get('uplink');
  if (uplink) query.uplink = uplink;
  return { query, problems };
}

/** Builds the query string for a check (used by the CLI). */
export function checkQueryString(q: LinkCheckQuery): string {
  const p = new URLSearchParams();
  for (const [param, key] of Object.entries(CHECK_PARAMS)) {
    const v = q[key];
    if (v !== undefined) p.set(param, String(v));
  }
  if (q.uplink) p.set('uplink', q.uplink);
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** Evaluates the snapshot against the query at `nowMs`. */
export function checkLink(snapshot: LinkSnapshot | null, q: LinkCheckQuery, nowMs: number): LinkCheckResult {
  if (!snapshot) return { ok: false, verdict: 'unknown', uplink: null, reasons: ['link state not evaluated yet'], atMs: null };
  const name = q.uplink ?? snapshot.active;
  const view = name === null ? undefined : snapshot.uplinks[name];
  if (!view) {
    const reason = q.uplink ? `unknown uplink "${q.uplink}" (known: ${Object.keys(snapshot.uplinks).join(', ') || 'none'})` : 'no uplink';
    return { ok: false, verdict: 'unknown', uplink: name, reasons: [reason], atMs: snapshot.atMs };
  }
  const base = q.uplink ? view.health : snapshot.node;
  const reasons = [...view.reasons];
  const latest = view.latest;
  if (q.maxAgeS !== undefined) {
    const ageS = latest.atMs > 0 ? (nowMs - latest.atMs) / 1000 : Infinity;
    if (ageS > q.maxAgeS) {
      const age = Number.isFinite(ageS) ? `${fmt(ageS)}s ago` : 'never';
      return { ok: false, verdict: 'unknown', uplink: name, reasons: [...reasons, `stale: last measurement ${age}>${fmt(q.maxAgeS)}`], atMs: snapshot.atMs };
    }
  }
  if (base !== 'healthy') return { ok: false, verdict: base, uplink: name, reasons, atMs: snapshot.atMs };
  const narrow: string[] = [];
  const need = (label: string, v: number | undefined, limit: number | undefined, unit: string, dir: 'min' | 'max'): void => {
    if (limit === undefined) return;
    if (v === undefined) narrow.push(`${label}=not measured`);
    else if (dir === 'min' ? v < limit : v > limit) narrow.push(`${label}=${fmt(v)}${unit}${dir === 'min' ? '<' : '>'}${fmt(limit)}`);
  };
  need('down', latest.downloadMbps, q.minDownMbps, 'Mbps', 'min');
  need('up', latest.uploadMbps, q.minUpMbps, 'Mbps', 'min');
  need('rtt_p95', latest.rttP95Ms, q.maxRttMs, 'ms', 'max');
  need('loss', latest.lossPercent, q.maxLossPercent, '%', 'max');
  if (narrow.length > 0) return { ok: false, verdict: 'degraded', uplink: name, reasons: narrow, atMs: snapshot.atMs };
  return { ok: true, verdict: 'healthy', uplink: name, reasons: [], atMs: snapshot.atMs };
}
