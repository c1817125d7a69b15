/** Edge-site lab telemetry accounting: what the workload got acknowledged vs. what VictoriaMetrics holds (value, timestamp, duplicates). */
import { readFileSync } from 'node:fs';
import type { SiteLab } from './site-lab.ts';
import { metricSum, type Metric } from './trust-lab.ts';

export interface Ack {
  sink: string;
  seq: number;
  tsMs: number;
  status: number;
  ackMs: number;
}
export interface Stored {
  sink: string;
  seq: number;
  tsMs: number;
}

/** Every answer the workload logged (202 = acknowledged, i.e. durable in the agent's buffer). */
export function readAcks(lab: SiteLab): Ack[] {
  let text = '';
  try {
    text = readFileSync(lab.acksFile, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Ack);
}

/** Raw samples of lws_site_seq for this run, as VictoriaMetrics exports them (one entry per stored sample, duplicates kept). */
export async function storedSamples(lab: SiteLab): Promise<Stored[]> {
  await lab.vm('/internal/force_flush');
  const r = await lab.vm(`/api/v1/export?match[]=${encodeURIComponent(`lws_site_seq{run="${lab.runId}"}`)}`);
  if (r.status !== 200) throw new Error(`VictoriaMetrics export → ${r.status}: ${r.body.slice(0, 300)}`);
  const out: Stored[] = [];
  for (const line of r.body.split('\n')) {
    if (!line.trim()) continue;
    const s = JSON.parse(line) as { metric: Record<string, string>; values: number[]; timestamps: number[] };
    s.timestamps.forEach((ts, i) => out.push({ sink: s.metric.sink ?? '?', seq: s.values[i]!, tsMs: ts }));
  }
  return out;
}

export interface Accounting {
  acked: number;
  notAcked: number;
  delivered: number;
  missing: Ack[];
  wrongTimestamp: Ack[];
  duplicates: number;
}

/** Compares acknowledged records with the stored ones: each must be there, every copy with the workload's own timestamp. */
export function account(acks: readonly Ack[], stored: readonly Stored[]): Accounting {
  const byKey = new Map<string, Stored[]>();
  for (const s of stored) {
    const k = `${s.sink}/${s.seq}`;
    byKey.set(k, [...(byKey.get(k) ?? []), s]);
  }
  const ok = acks.filter((a) => a.status === 202);
  const missing: Ack[] = [];
  const wrongTimestamp: Ack[] = [];
  let delivered = 0;
  for (const a of ok) {
    const got = byKey.get(`${a.sink}/${a.seq}`);
    if (!got) missing.push(a);
    else {
      delivered++;
      // Every stored copy (a resend included) must carry the workload's own timestamp.
      if (!got.every((s) => s.tsMs === a.tsMs)) wrongTimestamp.push(a);
    }
  }
  let duplicates = 0;
  for (const list of byKey.values()) duplicates += list.length - 1;
  return { acked: ok.length, notAcked: acks.length - ok.length, delivered, missing, wrongTimestamp, duplicates };
}

/** Stored records of one sink whose timestamp lies in [fromMs, toMs). */
export function storedIn(stored: readonly Stored[], sink: string, fromMs: number, toMs: number): number {
  return stored.filter((s) => s.sink === sink && s.tsMs >= fromMs && s.tsMs < toMs).length;
}

/** Records in the agent's buffer now (all sinks). */
export const depth = (ms: readonly Metric[]): number => metricSum(ms, 'linkward_buffer_depth_records');
/** Probe bytes the agent counted, per uplink. */
export const probeBytes = (ms: readonly Metric[], uplink: string): number => metricSum(ms, 'linkward_probes_bytes_total', (l) => l.uplink === uplink);
/** Route switches other than the take-over at start. */
export const switches = (ms: readonly Metric[]): number => metricSum(ms, 'linkward_route_switches_total', (l) => l.reason !== 'initial');
