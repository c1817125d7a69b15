/** JSON validity of raw bytes without building the value: the ingest check of ndjson lines and JSON bodies. */

/**
 * Why the bytes `b[start, end)` are not one JSON text as `JSON.parse(b.toString('utf8'))` reads it (RFC 8259), or
 * null when they are. Nothing is allocated on the valid path up to 64 levels of nesting (deeper texts get a stack of
 * their own for the call): parsing each ndjson line only to throw the value away
 * cost a 100-record request about a third of its CPU and most of its garbage (docs/BENCHMARKS.md, session 16).
 * Bytes of 0x80 and above are accepted inside strings without a UTF-8 check, as the decoder JSON.parse sees turns
 * bad sequences into U+FFFD; outside strings they are refused, as JSON.parse refuses U+FFFD there. Nesting depth is
 * unbounded, as in V8's iterative parser.
 */
export function jsonProblem(b: Uint8Array, start = 0, end = b.length): string | null {
  let i = ws(b, start, end);
  let depth = 0;
  // the shared stack; a text nested deeper gets a copy of its own, garbage once this call returns
  let containers = SHARED_CONTAINERS;
  let where: 'value' | 'key' = 'value';
  for (;;) {
    // a value (or, inside an object after `{` or `,`, a key and its colon first)
    if (where === 'key') {
      if (i >= end || b[i] !== QUOTE) return unexpected(b, i, start, end, 'a string key');
      i = str(b, i + 1, end);
      if (i < 0) return stringProblem(b, -i - 1, start, end);
      i = ws(b, i, end);
      if (i >= end || b[i] !== COLON) return unexpected(b, i, start, end, '":"');
      i = ws(b, i + 1, end);
    }
    if (i >= end) return unexpected(b, i, start, end, 'a value');
    const c = b[i]!;
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      i = ws(b, i + 1, end);
      const close = c === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY;
      if (i < end && b[i] === close) {
        i++;
      } else {
        if (depth === containers.length) containers = grown(containers);
        containers[depth++] = c === OPEN_OBJECT ? 1 : 0;
        where = c === OPEN_OBJECT ? 'key' : 'value';
        continue;
      }
    } else if (c === QUOTE) {
      i = str(b, i + 1, end);
      if (i < 0) return stringProblem(b, -i - 1, start, end);
    } else if (c === MINUS || (c >= ZERO && c <= NINE)) {
      const n = num(b, i, end);
      if (n < 0) return unexpected(b, -n - 1, start, end, 'a digit');
      i = n;
    } else {
      const n = literal(b, i, end);
      if (n < 0) return unexpected(b, -n - 1, start, end, 'a value');
      i = n;
    }
    // after a value: the next member, the end of its container, or the end of the text
    for (;;) {
      i = ws(b, i, end);
      if (depth === 0) return i >= end ? null : unexpected(b, i, start, end, 'the end after the value');
      const obj = containers[depth - 1] === 1;
      if (i < end && b[i] === COMMA) {
        i = ws(b, i + 1, end);
        where = obj ? 'key' : 'value';
        break;
      }
      if (i < end && b[i] === (obj ? CLOSE_OBJECT : CLOSE_ARRAY)) {
        depth--;
        i++;
        continue;
      }
      return unexpected(b, i, start, end, obj ? '"," or "}"' : '"," or "]"');
    }
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
/** Bytes below this are control characters, which a JSON string must escape. */
const FIRST_PRINTABLE = 0x20;
/**
 * Open containers, innermost last (1: object, 0: array), shared by calls (they are synchronous). Never grown in place:
 * one deep request (a gzip bomb of `[` is 64 MiB decoded) must not pin its stack for the life of the process.
 */
const SHARED_CONTAINERS: Uint8Array<ArrayBuffer> = new Uint8Array(64);

function grown(a: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const g = new Uint8Array(a.length * 2);
  g.set(a);
  return g;
}

/** 1 for a byte that stands for itself inside a string: not a control character, quote or backslash. */
const PLAIN = new Uint8Array(256).map((_, c) => (c >= FIRST_PRINTABLE && c !== QUOTE && c !== BACKSLASH ? 1 : 0));

const LITERALS = [Buffer.from('true'), Buffer.from('false'), Buffer.from('null')] as const;

/** Index of the first byte at or after `i` that is not JSON whitespace (space, tab, LF, CR). */
function ws(b: Uint8Array, i: number, end: number): number {
  while (i < end) {
    const c = b[i]!;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
    i++;
  }
  return i;
}

/** From just after an opening quote: the index after the closing quote, or -(index of the bad byte) - 1. */
function str(b: Uint8Array, i: number, end: number): number {
  while (i < end) {
    // the common case, one table load per byte: a long run of plain string bytes
    while (i < end && PLAIN[b[i]!] === 1) i++;
    if (i >= end) break;
    const c = b[i]!;
    if (c === QUOTE) return i + 1;
    if (c < FIRST_PRINTABLE) return -i - 1;
    if (c === BACKSLASH) {
      const e = b[i + 1];
      if (i + 1 >= end) return -(i + 1) - 1;
      if (e === 0x75 /* u */) {
        for (let k = 2; k <= 5; k++) if (i + k >= end || !isHex(b[i + k]!)) return -(i + k) - 1;
        i += 6;
        continue;
      }
      // " \ / b f n r t
      if (e !== QUOTE && e !== BACKSLASH && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) return -(i + 1) - 1;
      i += 2;
      continue;
    }
    i++;
  }
  return -end - 1;
}

function isHex(c: number): boolean {
  return (c >= ZERO && c <= NINE) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function digits(b: Uint8Array, i: number, end: number): number {
  while (i < end && b[i]! >= ZERO && b[i]! <= NINE) i++;
  return i;
}

/** A number `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?` from `i`: the index after it, or -(bad index) - 1. */
function num(b: Uint8Array, i: number, end: number): number {
  if (b[i] === MINUS) i++;
  if (i >= end || b[i]! < ZERO || b[i]! > NINE) return -i - 1;
  i = b[i] === ZERO ? i + 1 : digits(b, i + 1, end);
  if (i < end && b[i] === DOT) {
    const d = digits(b, i + 1, end);
    if (d === i + 1) return -d - 1;
    i = d;
  }
  if (i < end && (b[i] === 0x65 || b[i] === 0x45)) {
    i++;
    if (i < end && (b[i] === PLUS || b[i] === MINUS)) i++;
    const d = digits(b, i, end);
    if (d === i) return -d - 1;
    i = d;
  }
  return i;
}

/** true, false or null at `i`: the index after it, or -(bad index) - 1. */
function literal(b: Uint8Array, i: number, end: number): number {
  for (const word of LITERALS) {
    if (b[i] !== word[0]) continue;
    for (let k = 1; k < word.length; k++) if (i + k >= end || b[i + k] !== word[k]) return -(i + k) - 1;
    return i + word.length;
  }
  return -i - 1;
}

function stringProblem(b: Uint8Array, at: number, start: number, end: number): string {
  if (at >= end) return `unterminated string at the end (position ${at - start})`;
  const c = b[at]!;
  if (c < FIRST_PRINTABLE) return `control character 0x${c.toString(16).padStart(2, '0')} inside a string at position ${at - start} (escape it)`;
  return `bad escape sequence in a string at position ${at - start}`;
}

function unexpected(b: Uint8Array, at: number, start: number, end: number, wanted: string): string {
  if (at >= end) return `unexpected end of the text (position ${at - start}); expected ${wanted}`;
  const c = b[at]!;
  const shown = c >= FIRST_PRINTABLE && c < 0x7f ? `"${String.fromCharCode(c)}"` : `byte 0x${c.toString(16).padStart(2, '0')}`;
  return `unexpected ${shown} at position ${at - start}; expected ${wanted}`;
}

/** True when `b[start, end)` holds only the whitespace String#trim drops in ASCII (space, tab, CR, VT, FF). */
function blank(b: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0b && c !== 0x0c) return false;
  }
  return true;
}

/**
 * Why an ndjson body cannot be delivered (its first line that is not one JSON text, numbered from 1), or null.
 * Blank lines are allowed; a line of only non-ASCII spaces (NBSP, U+2028) is not blank, unlike String#trim's view.
 */
export function ndjsonProblem(b: Buffer): string | null {
  for (let start = 0, line = 1; start <= b.length; line++) {
    let end = b.indexOf(0x0a, start);
    if (end < 0) end = b.length;
    if (!blank(b, start, end)) {
      const p = jsonProblem(b, start, end);
      if (p !== null) return `line ${line} is not valid JSON: ${p}`;
    }
    start = end + 1;
  }
  return null;
}
