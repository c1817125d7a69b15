/** The record ledger's on-disk slot: totals plus the group being committed, checksummed; reads the older layout too. */
import { crc32 } from 'node:zlib';

/**
 * One slot (LWL2): magic, generation, added, removed, the records of a group whose commit had not returned when the
 * slot was written, and the highest record id before that group (float64: exact to 2^53), crc32 of what precedes it.
 */
export const SLOT_BYTES = 48;
const MAGIC = 0x4c57_4c32; // "LWL2"
const CRC_AT = 44;
/** The first layout (before a group's totals were written ahead of its commit): two 32-byte slots, no group fields. */
const V1_SLOT_BYTES = 32;
const V1_MAGIC = 0x4c57_4c31; // "LWL1"
/** LWL2 slots start after the LWL1 ones, which are never overwritten: a torn first write after an upgrade loses nothing. */
const V2_BASE = 2 * V1_SLOT_BYTES;
/** Bytes to read at open: both layouts' slots. */
export const HEAD_BYTES = V2_BASE + 2 * SLOT_BYTES;

/** File offset of LWL2 slot position 0 or 1. */
export function slotOffset(pos: number): number {
  return V2_BASE + pos * SLOT_BYTES;
}

export interface LedgerTotals {
  added: number;
  removed: number;
}

/** Records counted in `added` before their database commit returned: they hold ids above `afterId` if it happened. */
export interface UnsureGroup {
  records: number;
  afterId: number;
}

export interface Slot {
  gen: number;
  totals: LedgerTotals;
  unsure: UnsureGroup;
}

/** A slot read at open, and its LWL2 position (-1: an LWL1 slot, whose bytes the new layout never touches). */
export type FoundSlot = Slot & { pos: number };

export const NO_GROUP: UnsureGroup = { records: 0, afterId: 0 };

export function encodeSlot(s: Slot): Buffer {
  const b = Buffer.alloc(SLOT_BYTES);
  b.writeUInt32LE(MAGIC, 0);
  b.writeUInt32LE(s.gen >>> 0, 4);
  b.writeDoubleLE(s.totals.added, 8);
  b.writeDoubleLE(s.totals.removed, 16);
  b.writeDoubleLE(s.unsure.records, 24);
  b.writeDoubleLE(s.unsure.afterId, 32);
  b.writeUInt32LE(crc32(b.subarray(0, CRC_AT)), CRC_AT);
  return b;
}

function decodeV2(b: Buffer): Slot | null {
  if (b.length < SLOT_BYTES || b.readUInt32LE(0) !== MAGIC || b.readUInt32LE(CRC_AT) !== crc32(b.subarray(0, CRC_AT))) return null;
  return {
    gen: b.readUInt32LE(4),
    totals: { added: b.readDoubleLE(8), removed: b.readDoubleLE(16) },
    unsure: { records: b.readDoubleLE(24), afterId: b.readDoubleLE(32) },
  };
}

function decodeV1(b: Buffer): Slot | null {
  if (b.length < V1_SLOT_BYTES || b.readUInt32LE(0) !== V1_MAGIC || b.readUInt32LE(28) !== crc32(b.subarray(0, 28))) return null;
  return { gen: b.readUInt32LE(4), totals: { added: b.readDoubleLE(8), removed: b.readDoubleLE(16) }, unsure: NO_GROUP };
}

/**
 * The newest valid slot of a ledger file's first HEAD_BYTES (null: none). Both layouts are tried, so a ledger written
 * by an older linkward is read after an upgrade; the first LWL2 slot then carries the next generation.
 */
export function newestSlot(head: Buffer): FoundSlot | null {
  const at = (s: Slot | null, pos: number): FoundSlot | null => (s ? { ...s, pos } : null);
  const found = [
    at(decodeV2(head.subarray(slotOffset(0), slotOffset(0) + SLOT_BYTES)), 0),
    at(decodeV2(head.subarray(slotOffset(1), slotOffset(1) + SLOT_BYTES)), 1),
    at(decodeV1(head.subarray(0, V1_SLOT_BYTES)), -1),
    at(decodeV1(head.subarray(V1_SLOT_BYTES, 2 * V1_SLOT_BYTES)), -1),
  ];
  let best: FoundSlot | null = null;
  for (const s of found) if (s && (best === null || ((s.gen - best.gen) | 0) > 0)) best = s;
  return best;
}
