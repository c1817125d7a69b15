/** Builds a sealed batch (stable id, final bytes) from the oldest unsealed records of one lane. */
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { SinkConfig } from '../agent/config/buffer.ts';
import { defaultContentType, effectiveCompression, mergeBodies, mergeable } from './protocols.ts';
import { snappyCompress } from './snappy.ts';
import type { SealedBatch, StoredRecord } from './types.ts';

export interface BuiltBatch {
  batch: Omit<SealedBatch, 'attempts'>;
  recordIds: number[];
}

/**
 * Takes the leading records that can share one request: all of them for line protocols and identity-encoded
 * remote write with the same content headers; one otherwise. Merged bodies get the sink's compression.
 */
export function buildBatch(
  sink: Pick<SinkConfig, 'name' | 'protocol' | 'compression'>,
  records: readonly StoredRecord[],
  nowMs: number,
  newId: () => string = randomUUID,
): BuiltBatch | null {
  const first = records[0];
  if (!first) return null;
  const group = [first];
  if (mergeable(sink.protocol, first.contentEncoding)) {
    for (const r of records.slice(1)) {
      if (r.contentType !== first.contentType || (r.contentEncoding ?? null) !== (first.contentEncoding ?? null)) break;
      group.push(r);
    }
  }
  let body: Uint8Array;
  let encoding = first.contentEncoding;
  if (group.length === 1 && !mergeable(sink.protocol, first.contentEncoding)) {
    body = first.body;
  } else {
    const merged = mergeBodies(
      sink.protocol,
      group.map((r) => r.body),
    );
    const c = effectiveCompression(sink);
    if (c === 'gzip') {
      body = gzipSync(merged);
      encoding = 'gzip';
    } else if (c === 'snappy') {
      body = snappyCompress(merged);
      encoding = 'snappy';
    } else {
      body = merged;
      encoding = null;
    }
  }
  return {
    batch: {
      id: newId(),
      sink: sink.name,
      priority: first.priority,
      createdMs: nowMs,
      contentType: first.contentType ?? defaultContentType(sink.protocol),
      contentEncoding: encoding,
      body,
      recordCount: group.length,
    },
    recordIds: group.map((r) => r.id),
  };
}

/** The leading records within the sealer's limits (at least one). */
export function leadingWithin(recs: StoredRecord[], maxRecords: number, maxBytes: number): StoredRecord[] {
  let bytes = 0;
  let n = 0;
  for (const r of recs) {
    if (n > 0 && (n >= maxRecords || bytes + r.body.byteLength > maxBytes)) break;
    bytes += r.body.byteLength;
    n += 1;
  }
  return recs.slice(0, n);
}
