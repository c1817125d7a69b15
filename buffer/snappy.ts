/** Snappy block format (as Prometheus remote write requires): a small greedy compressor and a decompressor. */

/** Hash table size (entries) of the match finder: 16 Ki keeps it in L1/L2 and is what the reference uses. */
const HASH_BITS = 14;
/** Longest back-reference distance a 2-byte-offset copy can express. */
const MAX_OFFSET = 65_535;

class Out {
  buf: Buffer;
  pos = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  byte(b: number): void {
    this.buf[this.pos++] = b;
  }
  varint(v: number): void {
    while (v >= 0x80) {
      this.byte((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    this.byte(v);
  }
}

function emitLiteral(out: Out, src: Uint8Array, from: number, to: number): void {
  const len = to - from;
  if (len <= 0) return;
  const n = len - 1;
  if (n < 60) out.byte(n << 2);
  else if (n < 0x100) {
    out.byte(60 << 2);
    out.byte(n);
  } else if (n < 0x10000) {
    out.byte(61 << 2);
    out.byte(n & 0xff);
    out.byte(n >>> 8);
  } else if (n < 0x1000000) {
    out.byte(62 << 2);
    out.byte(n & 0xff);
    out.byte((n >>> 8) & 0xff);
    out.byte(n >>> 16);
  } else {
    out.byte(63 << 2);
    out.byte(n & 0xff);
    out.byte((n >>> 8) & 0xff);
    out.byte((n >>> 16) & 0xff);
    out.byte(n >>> 24);
  }
  out.buf.set(src.subarray(from, to), out.pos);
  out.pos += len;
}

function emitCopy(out: Out, offset: number, len: number): void {
  while (len >= 68) {
    out.byte(((64 - 1) << 2) | 2);
    out.byte(offset & 0xff);
    out.byte(offset >>> 8);
    len -= 64;
  }
  if (len > 64) {
    out.byte(((60 - 1) << 2) | 2);
    out.byte(offset & 0xff);
    out.byte(offset >>> 8);
    len -= 60;
  }
  if (len >= 4 && len < 12 && offset < 2048) {
    out.byte(((offset >>> 8) << 5) | ((len - 4) << 2) | 1);
    out.byte(offset & 0xff);
  } else {
    out.byte(((len - 1) << 2) | 2);
    out.byte(offset & 0xff);
    out.byte(offset >>> 8);
  }
}

const read32 = (b: Uint8Array, i: number): number => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;

/** Compresses `src` into one snappy block (deterministic: same input, same bytes). */
export function snappyCompress(src: Uint8Array): Buffer {
  const n = src.length;
  const out = new Out(32 + n + Math.ceil(n / 6));
  out.varint(n);
  const table = new Int32Array(1 << HASH_BITS).fill(-1);
  let i = 0;
  let lit = 0;
  while (i + 4 <= n) {
    const v = read32(src, i);
    const h = Math.imul(v, 0x1e35a7bd) >>> (32 - HASH_BITS);
    const cand = table[h]!;
    table[h] = i;
    if (cand >= 0 && i - cand <= MAX_OFFSET && read32(src, cand) === v) {
      emitLiteral(out, src, lit, i);
      let len = 4;
      while (i + len < n && src[cand + len] === src[i + len]) len++;
      emitCopy(out, i - cand, len);
      i += len;
      lit = i;
    } else {
      i++;
    }
  }
  emitLiteral(out, src, lit, n);
  return out.buf.subarray(0, out.pos);
}

/** Decompresses one snappy block; throws on malformed input. */
export function snappyDecompress(src: Uint8Array): Buffer {
  let p = 0;
  let len = 0;
  for (let shift = 0; ; shift += 7) {
    const b = src[p++];
    if (b === undefined || shift > 35) throw new Error('snappy: bad length preamble');
    len += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
  }
  const out = Buffer.allocUnsafe(len);
  let o = 0;
  while (p < src.length) {
    const tag = src[p++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let n = tag >>> 2;
      if (n >= 60) {
        const bytes = n - 59;
        n = 0;
        for (let k = 0; k < bytes; k++) n += src[p++]! * 2 ** (8 * k);
      }
      n += 1;
      if (o + n > len || p + n > src.length) throw new Error('snappy: literal overflows');
      out.set(src.subarray(p, p + n), o);
      p += n;
      o += n;
      continue;
    }
    let n: number;
    let off: number;
    if (kind === 1) {
      n = ((tag >>> 2) & 7) + 4;
      off = ((tag >>> 5) << 8) | src[p++]!;
    } else if (kind === 2) {
      n = (tag >>> 2) + 1;
      off = src[p]! | (src[p + 1]! << 8);
      p += 2;
    } else {
      n = (tag >>> 2) + 1;
      off = read32(src, p);
      p += 4;
    }
    if (off === 0 || off > o || o + n > len) throw new Error('snappy: bad copy');
    for (let k = 0; k < n; k++, o++) out[o] = out[o - off]!;
  }
  if (o !== len) throw new Error('snappy: length mismatch');
  return out;
}
