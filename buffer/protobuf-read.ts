/** Minimal protobuf wire reader: walks fields (for remote-write validation at ingest and dead-letter re-splitting). */

export interface PbField {
  field: number;
  wire: number;
  /** Offsets of the whole field (tag included) in the buffer. */
  start: number;
  end: number;
  /** Offsets of a length-delimited payload (wire 2); equal to end for other wire types. */
  valueStart: number;
}

/** Thrown on malformed input; `message` says where. */
export class PbError extends Error {}

function varint(buf: Uint8Array, p: number): [number, number] {
  let v = 0;
  for (let shift = 0; shift < 64; shift += 7) {
    const b = buf[p++];
    if (b === undefined) throw new PbError('truncated varint');
    v += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [v, p];
  }
  throw new PbError('varint longer than 10 bytes');
}

/** All top-level fields of `buf` between `from` and `to`; throws PbError when the bytes are not a protobuf message. */
export function pbFields(buf: Uint8Array, from = 0, to = buf.length): PbField[] {
  const out: PbField[] = [];
  let p = from;
  while (p < to) {
    const start = p;
    let tag: number;
    [tag, p] = varint(buf, p);
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 0) throw new PbError(`field number 0 at byte ${start}`);
    let valueStart = p;
    if (wire === 0) [, p] = varint(buf, p);
    else if (wire === 1) p += 8;
    else if (wire === 5) p += 4;
    else if (wire === 2) {
      let len: number;
      [len, p] = varint(buf, p);
      valueStart = p;
      p += len;
    } else throw new PbError(`unsupported wire type ${wire} at byte ${start}`);
    if (p > to) throw new PbError(`field ${field} at byte ${start} runs past the end`);
    out.push({ field, wire, start, end: p, valueStart: wire === 2 ? valueStart : p });
  }
  return out;
}

/** Fields of a message, checking each has the expected wire type (unknown fields are allowed, as protobuf does). */
function expect(buf: Uint8Array, from: number, to: number, wires: Readonly<Record<number, number>>, what: string): PbField[] {
  const fs = pbFields(buf, from, to);
  for (const f of fs) {
    const w = wires[f.field];
    if (w !== undefined && w !== f.wire) throw new PbError(`${what}: field ${f.field} has wire type ${f.wire}, expected ${w}`);
  }
  return fs;
}

/**
 * Checks that `buf` decodes as a remote-write 1.0 WriteRequest: timeseries (1) of labels (1: name 1, value 2) and
 * samples (2: value double 1, timestamp int64 2), metadata (3). Returns the number of series; throws PbError.
 */
export function checkWriteRequest(buf: Uint8Array): number {
  let series = 0;
  for (const ts of expect(buf, 0, buf.length, { 1: 2, 3: 2 }, 'WriteRequest')) {
    if (ts.field !== 1) continue;
    series += 1;
    let labels = 0;
    for (const f of expect(buf, ts.valueStart, ts.end, { 1: 2, 2: 2 }, `timeseries ${series}`)) {
      if (f.field === 1) {
        labels += 1;
        expect(buf, f.valueStart, f.end, { 1: 2, 2: 2 }, `timeseries ${series} label`);
      } else if (f.field === 2) expect(buf, f.valueStart, f.end, { 1: 1, 2: 0 }, `timeseries ${series} sample`);
    }
    if (labels === 0) throw new PbError(`timeseries ${series} has no labels`);
  }
  return series;
}
