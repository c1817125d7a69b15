/** Row ↔ value conversions of the SQLite store (column names to the Store port's types). */
import type { DeadLetter, SealedBatch, StoredRecord } from './types.ts';

export type Row = Record<string, unknown>;

export function toRecord(r: Row): StoredRecord {
  return {
    id: Number(r.id),
    sink: String(r.sink),
    priority: Number(r.priority),
    createdMs: Number(r.created_ms),
    expiresMs: r.expires_ms === null ? null : Number(r.expires_ms),
    contentType: (r.content_type as string | null) ?? null,
    contentEncoding: (r.content_encoding as string | null) ?? null,
    body: r.body as Buffer,
    batchId: (r.batch_id as string | null) ?? null,
  };
}

export function toBatch(r: Row): SealedBatch {
  return {
    id: String(r.id),
    sink: String(r.sink),
    priority: Number(r.priority),
    createdMs: Number(r.created_ms),
    contentType: (r.content_type as string | null) ?? null,
    contentEncoding: (r.content_encoding as string | null) ?? null,
    body: r.body as Buffer,
    recordCount: Number(r.record_count),
    attempts: Number(r.attempts),
  };
}

export function toDeadLetter(r: Row): DeadLetter {
  return {
    id: String(r.id),
    sink: String(r.sink),
    priority: Number(r.priority),
    failedMs: Number(r.failed_ms),
    status: r.status === null ? null : Number(r.status),
    reason: String(r.reason),
    recordCount: Number(r.record_count),
    contentType: (r.content_type as string | null) ?? null,
    contentEncoding: (r.content_encoding as string | null) ?? null,
    body: r.body as Buffer,
  };
}
