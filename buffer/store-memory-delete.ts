/** Bulk deletes of the in-memory store (eviction, TTL expiry): which records and sealed batches go, as sqlite-delete.ts picks them. */
import type { StoredRecord } from './types.ts';

/** What a delete takes: record ids, and the sealed batches that go with them (whole). */
export interface Doomed {
  doomed: ReadonlySet<number>;
  batches: ReadonlySet<string | null>;
}

/** The lowest-priority, oldest records (a sealed one takes its whole batch) until both amounts are freed. */
export function oldestRecords(records: readonly StoredRecord[], freeBytes: number, freeRecords: number): Doomed {
  const order = [...records].sort((a, b) => b.priority - a.priority || a.id - b.id);
  const doomed = new Set<number>();
  const batches = new Set<string>();
  let bytes = 0;
  for (const r of order) {
    if (bytes >= freeBytes && doomed.size >= freeRecords) break;
    if (doomed.has(r.id)) continue;
    const group = r.batchId === null ? [r] : records.filter((x) => x.batchId === r.batchId);
    if (r.batchId !== null) batches.add(r.batchId);
    for (const g of group) {
      doomed.add(g.id);
      bytes += g.body.byteLength;
    }
  }
  return { doomed, batches };
}

/** Records expired at `nowMs`: every sealed batch holding one (whole), then loose ones while fewer than `maxRecords` go. */
export function expiredRecords(records: readonly StoredRecord[], nowMs: number, maxRecords: number): Doomed {
  const dead = (r: StoredRecord): boolean => r.expiresMs !== null && r.expiresMs < nowMs;
  const batches = new Set(records.filter((r) => dead(r) && r.batchId !== null).map((r) => r.batchId));
  const doomed = new Set(records.filter((r) => r.batchId !== null && batches.has(r.batchId)).map((r) => r.id));
  for (const r of records) if (doomed.size < maxRecords && dead(r) && r.batchId === null) doomed.add(r.id);
  return { doomed, batches };
}
