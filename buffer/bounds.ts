/** Pure admission decision for a group of incoming records against the storage bounds and drop policy. */
import type { Usage } from './types.ts';

export type DropPolicy = 'drop-oldest' | 'reject-new';

export interface Limits {
  maxBytes: number;
  maxRecords: number | null;
  policy: DropPolicy;
}

export interface Admission {
  /** How many of the incoming records (in order) are accepted; the rest are refused (507). */
  accept: number;
  /** Bytes / records to evict first (drop-oldest) so the accepted ones fit. */
  freeBytes: number;
  freeRecords: number;
}

/** Decides what to accept and what to evict, given current usage and incoming record sizes. */
export function admit(usage: Usage, sizes: readonly number[], limits: Limits): Admission {
  const maxRecords = limits.maxRecords ?? Number.POSITIVE_INFINITY;
  let accept = 0;
  let bytes = 0;
  if (limits.policy === 'reject-new') {
    for (const s of sizes) {
      if (usage.bytes + bytes + s > limits.maxBytes || usage.records + accept + 1 > maxRecords) break;
      bytes += s;
      accept += 1;
    }
    return { accept, freeBytes: 0, freeRecords: 0 };
  }
  // drop-oldest: everything that can fit at all is accepted; older records make room.
  for (const s of sizes) {
    if (bytes + s > limits.maxBytes || accept + 1 > maxRecords) break;
    bytes += s;
    accept += 1;
  }
  return {
    accept,
    freeBytes: Math.max(0, usage.bytes + bytes - limits.maxBytes),
    freeRecords: Math.max(0, usage.records + accept - maxRecords),
  };
}
