/** Strict parser of the one request shape the fast path serves (a POST with Content-Length, whole in hand); anything else is declined. */
import type { FastRequest } from '../runtime/component.ts';

/** Node's default --max-http-header-size: a longer head is node:http's to refuse (431). */
export const FAST_MAX_HEAD_BYTES = 16 * 1024;
/** Largest body the fast path holds: a single record or a small batch; bigger bodies go through node:http's backpressure. */
export const FAST_MAX_BODY_BYTES = 64 * 1024;

export type FastParse =
  /** More bytes are needed (the fast path does not wait for them: node:http serves the connection). */
  | { kind: 'incomplete' }
  /** Outside the strict subset: node:http parses it from the first byte, with its own answers (400, 431, 100-continue...). */
  | { kind: 'decline'; why: string }
  /** One whole request; `end` is the offset just past its body. */
  | { kind: 'request'; request: FastRequest; end: number };

/** Request line: POST, an origin-form path of plain characters (no query, no percent-encoding), HTTP/1.1. */
const REQUEST_LINE = /^POST (\/[A-Za-z0-9_.\-/]*) HTTP\/1\.1$/;
/** RFC 9110 field-name token, a colon right after it (as llhttp's strict mode), a value of visible ASCII, SP and HTAB. */
const HEADER_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*([\x20-\x7e\t]*?)[ \t]*$/;
const DIGITS = /^\d{1,9}$/;
/** Headers whose presence asks for what only node:http does (chunked bodies, 100-continue, protocol switches). */
const DECLINED_HEADERS = new Set(['transfer-encoding', 'expect', 'upgrade', 'te', 'trailer', 'proxy-connection']);
/** Real clients send a dozen fields; node:http refuses more than 1000 (431), so anything near that is its to judge. */
export const FAST_MAX_HEADER_FIELDS = 64;
const CRLFCRLF = Buffer.from('\r\n\r\n');

const decline = (why: string): FastParse => ({ kind: 'decline', why });

/**
 * Parses the request at the start of `buf`. Only the plainest HTTP/1.1 shape is accepted; every ambiguity a lenient
 * parser would resolve (bare LF, obs-fold, repeated fields, both or neither framing header, a non-keep-alive
 * connection) is declined, so the fast path never frames a request differently from node:http's llhttp.
 */
export function parseFastRequest(buf: Buffer): FastParse {
  const headEnd = buf.indexOf(CRLFCRLF);
  if (headEnd < 0) return buf.length > FAST_MAX_HEAD_BYTES ? decline('head too long') : { kind: 'incomplete' };
  if (headEnd > FAST_MAX_HEAD_BYTES) return decline('head too long');
  const lines = buf.toString('latin1', 0, headEnd).split('\r\n');
  const target = REQUEST_LINE.exec(lines[0] ?? '')?.[1];
  if (target === undefined) return decline('request line');
  if (lines.length - 1 > FAST_MAX_HEADER_FIELDS) return decline('too many header fields');
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  for (let i = 1; i < lines.length; i++) {
    const m = HEADER_LINE.exec(lines[i]!);
    if (m === null) return decline('header line');
    const name = m[1]!.toLowerCase();
    if (Object.hasOwn(headers, name)) return decline(`repeated ${name}`);
    if (DECLINED_HEADERS.has(name)) return decline(name);
    headers[name] = m[2]!;
  }
  if (headers.host === undefined) return decline('no host');
  const connection = headers.connection;
  if (connection !== undefined && connection.toLowerCase() !== 'keep-alive') return decline('connection');
  const length = headers['content-length'];
  if (length === undefined || !DIGITS.test(length)) return decline('content-length');
  const size = Number(length);
  if (size > FAST_MAX_BODY_BYTES) return decline('body too large');
  const start = headEnd + CRLFCRLF.length;
  const end = start + size;
  if (buf.length < end) return { kind: 'incomplete' };
  return { kind: 'request', request: { target, headers, body: buf.subarray(start, end) }, end };
}
