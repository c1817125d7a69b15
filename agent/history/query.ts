/** Builds the /v1/history document from stored rows (pure: the window is given by `nowMs` and `sinceMs`). */
import { bucketIndex, bucketWidthMs, downsample, type Bucket, type RawPoint } from './downsample.ts';
import type { BufferSampleRow, FailoverRow, NodeActionRow, ProbeRow, TransitionRow } from './store.ts';

/** Version of the document's shape: bumped on an incompatible change (fleet tools parse it). */
export const HISTORY_SCHEMA_VERSION = 1;
/** Default window of /v1/history, the page and `linkward history`. */
export const DEFAULT_SINCE_MS = 24 * 3_600_000;
/** Longest window that can be asked for: the recorded tables keep 48 h (HISTORY_RETENTION_MS). */
export const MAX_SINCE_MS = 48 * 3_600_000;

/** The figures charted per uplink: sample field → series name in the document. */
export const SERIES = ['downloadMbps', 'uploadMbps', 'rttMs', 'idleRttMs', 'loadedRttMs', 'lossPercent'] as const;
export type SeriesName = (typeof SERIES)[number];

export interface UplinkHistory {
  /** Per figure: non-empty buckets, oldest first. */
  series: Record<SeriesName, Bucket[]>;
  /** Samples left out because the agent could not vouch for them (the `void` flag). */
  voidSamples: number;
}

export interface BufferBucket {
  t: number;
  /** Records waiting: max in the bucket (the backlog's peak matters). */
  records: number;
  bytes: number;
  /** Oldest record's age (s), max in the bucket; null when nothing waited. */
  oldestAgeS: number | null;
  /** A sink was failing during the bucket. */
  sinkFailing: boolean;
}

export interface HistoryDoc {
  schemaVersion: number;
  nowMs: number;
  sinceMs: number;
  untilMs: number;
  bucketMs: number;
  uplinks: Record<string, UplinkHistory>;
  /** Link state changes; `uplink` null is the node's overall state. */
  transitions: TransitionRow[];
  failovers: FailoverRow[];
  nodeActions: { atMs: number; summary: string }[];
  buffer: BufferBucket[];
}

export interface HistoryRows {
  probes: readonly ProbeRow[];
  transitions: readonly TransitionRow[];
  failovers: readonly FailoverRow[];
  nodeActions: readonly NodeActionRow[];
  buffer: readonly BufferSampleRow[];
}

function emptySeries(): Record<SeriesName, RawPoint[]> {
  return { downloadMbps: [], uploadMbps: [], rttMs: [], idleRttMs: [], loadedRttMs: [], lossPercent: [] };
}

/** Per uplink raw points from the stored probe results; voided and unparsable samples are counted, not charted. */
function collectProbes(rows: readonly ProbeRow[]): Map<string, { points: Record<SeriesName, RawPoint[]>; voids: number }> {
  const out = new Map<string, { points: Record<SeriesName, RawPoint[]>; voids: number }>();
  for (const r of rows) {
    let s: Record<string, unknown>;
    try {
      s = JSON.parse(r.sample) as Record<string, unknown>;
    } catch {
      continue;
    }
    let u = out.get(r.uplink);
    if (!u) out.set(r.uplink, (u = { points: emptySeries(), voids: 0 }));
    if (s.void !== undefined) {
      u.voids += 1;
      continue;
    }
    for (const name of SERIES) {
      const v = s[name];
      if (typeof v === 'number' && Number.isFinite(v)) u.points[name].push({ atMs: r.atMs, value: v });
    }
  }
  return out;
}

function downsampleBuffer(rows: readonly BufferSampleRow[], sinceMs: number, untilMs: number, widthMs: number): BufferBucket[] {
  const acc = new Map<number, BufferBucket>();
  for (const r of rows) {
    if (r.atMs < sinceMs || r.atMs > untilMs) continue;
    const k = bucketIndex(r.atMs, sinceMs, untilMs, widthMs);
    const b = acc.get(k);
    if (!b) acc.set(k, { t: sinceMs + k * widthMs, records: r.records, bytes: r.bytes, oldestAgeS: r.oldestAgeS, sinkFailing: r.sinkFailing });
    else {
      b.records = Math.max(b.records, r.records);
      b.bytes = Math.max(b.bytes, r.bytes);
      b.oldestAgeS = r.oldestAgeS === null ? b.oldestAgeS : Math.max(b.oldestAgeS ?? 0, r.oldestAgeS);
      b.sinkFailing ||= r.sinkFailing;
    }
  }
  return [...acc.entries()].sort((a, b) => a[0] - b[0]).map(([, b]) => b);
}

/** The document for the window [nowMs - sinceMs, nowMs]; `uplinks` lists names to include even without data. */
export function buildHistory(rows: HistoryRows, nowMs: number, windowMs: number, uplinks: readonly string[] = []): HistoryDoc {
  const sinceMs = nowMs - windowMs;
  const widthMs = bucketWidthMs(sinceMs, nowMs);
  const probes = collectProbes(rows.probes);
  const names = [...new Set([...uplinks, ...probes.keys()])];
  const out: Record<string, UplinkHistory> = {};
  for (const name of names) {
    const p = probes.get(name) ?? { points: emptySeries(), voids: 0 };
    const series = Object.fromEntries(SERIES.map((s) => [s, downsample(p.points[s], sinceMs, nowMs, widthMs)])) as Record<SeriesName, Bucket[]>;
    out[name] = { series, voidSamples: p.voids };
  }
  const within = (t: number): boolean => t >= sinceMs && t <= nowMs;
  return {
    schemaVersion: HISTORY_SCHEMA_VERSION,
    nowMs,
    sinceMs,
    untilMs: nowMs,
    bucketMs: widthMs,
    uplinks: out,
    transitions: rows.transitions.filter((t) => within(t.atMs)),
    failovers: rows.failovers.filter((f) => within(f.atMs)),
    nodeActions: rows.nodeActions.filter((a) => within(a.atMs)).map((a) => ({ atMs: a.atMs, summary: a.summary })),
    buffer: downsampleBuffer(rows.buffer, sinceMs, nowMs, widthMs),
  };
}
