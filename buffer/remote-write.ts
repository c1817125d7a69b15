/** Minimal protobuf encoder for Prometheus remote-write 1.0 WriteRequest (TimeSeries, Label, Sample). */

export interface Series {
  /** Labels including `__name__`; sorted by name when encoded, as the spec requires. */
  labels: Record<string, string>;
  samples: { value: number; timestampMs: number }[];
}

class Writer {
  parts: Buffer[] = [];
  varint(v: number): void {
    const bytes: number[] = [];
    while (v >= 0x80) {
      bytes.push((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    bytes.push(v);
    this.parts.push(Buffer.from(bytes));
  }
  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }
  bytes(field: number, b: Uint8Array): void {
    this.tag(field, 2);
    this.varint(b.length);
    this.parts.push(Buffer.from(b));
  }
  double(field: number, v: number): void {
    this.tag(field, 1);
    const b = Buffer.allocUnsafe(8);
    b.writeDoubleLE(v);
    this.parts.push(b);
  }
  /** int64 for non-negative values up to 2^53 (millisecond timestamps). */
  int64(field: number, v: number): void {
    if (v < 0 || !Number.isSafeInteger(v)) throw new RangeError(`int64 out of range: ${v}`);
    this.tag(field, 0);
    this.varint(v);
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

function encodeLabel(name: string, value: string): Buffer {
  const w = new Writer();
  w.bytes(1, Buffer.from(name));
  w.bytes(2, Buffer.from(value));
  return w.done();
}

function encodeSeries(s: Series): Buffer {
  const w = new Writer();
  for (const name of Object.keys(s.labels).sort()) w.bytes(1, encodeLabel(name, s.labels[name]!));
  for (const smp of s.samples) {
    const sw = new Writer();
    sw.double(1, smp.value);
    sw.int64(2, smp.timestampMs);
    w.bytes(2, sw.done());
  }
  return w.done();
}

/** Encodes a WriteRequest (uncompressed). Two encoded requests concatenated decode as their union. */
export function encodeWriteRequest(series: readonly Series[]): Buffer {
  const w = new Writer();
  for (const s of series) w.bytes(1, encodeSeries(s));
  return w.done();
}
