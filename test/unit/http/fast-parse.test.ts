/** The fast path's strict request parser: the plain shape is taken whole, every other shape is declined or left incomplete. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FAST_MAX_BODY_BYTES, FAST_MAX_HEAD_BYTES, FAST_MAX_HEADER_FIELDS, parseFastRequest } from '../../../agent/http/fast-parse.ts';

const BODY = '{"x":1}\n';
const plain = (extra = '', body = BODY, target = '/v1/ingest/app'): string =>
  `POST ${target} HTTP/1.1\r\nHost: 127.0.0.1:9780\r\nContent-Type: application/x-ndjson\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
const parse = (s: string) => parseFastRequest(Buffer.from(s, 'latin1'));
const declined = (s: string): string => {
  const p = parse(s);
  assert.equal(p.kind, 'decline', `expected a decline for ${JSON.stringify(s)}, got ${p.kind}`);
  return p.kind === 'decline' ? p.why : '';
};

describe('parseFastRequest', () => {
  it('takes the plain shape: target, lower-case headers with trimmed values, the body, and where the next request starts', () => {
    const second = plain();
    const buf = Buffer.from(plain('Authorization: Bearer  abc \t\r\nX-Linkward-Priority: high\r\n') + second);
    const p = parseFastRequest(buf);
    assert.equal(p.kind, 'request');
    if (p.kind !== 'request') return;
    assert.equal(p.request.target, '/v1/ingest/app');
    assert.equal(p.request.headers.authorization, 'Bearer  abc');
    assert.equal(p.request.headers['x-linkward-priority'], 'high');
    assert.equal(p.request.headers['content-type'], 'application/x-ndjson');
    assert.equal(p.request.body.toString(), BODY);
    assert.equal(buf.subarray(p.end).toString(), second, 'a pipelined request starts right after the body');
  });

  it('is incomplete until the head and the whole declared body are in hand', () => {
    const whole = plain();
    for (const cut of [0, 10, whole.indexOf('\r\n\r\n') + 2, whole.length - 1])
      assert.deepEqual(parse(whole.slice(0, cut)), { kind: 'incomplete' }, `cut at ${cut}`);
  });

  it('declines everything a lenient parser would have to interpret', () => {
    const cases: [string, string][] = [
      ['GET /v1/ingest/app HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n', 'request line'],
      ['post /v1/ingest/app HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n', 'request line'],
      [plain().replace('HTTP/1.1', 'HTTP/1.0'), 'request line'],
      [plain('', BODY, '/v1/ingest/app?x=1'), 'request line'],
      [plain('', BODY, '/v1/ingest/a%70p'), 'request line'],
      [plain('', BODY, 'http://h/v1/ingest/app'), 'request line'],
      [plain().replace('POST ', 'POST  '), 'request line'],
      [plain('X-A: 1\nX-B: 2\r\n'), 'header line'], // bare LF inside the head
      [plain('X-A: 1\r\n folded\r\n'), 'header line'], // obs-fold
      [plain('X-A : 1\r\n'), 'header line'], // space before the colon
      [plain('X-A: caf\u00e9\r\n'), 'header line'], // obs-text
      [plain('X-A: a\u0000b\r\n'), 'header line'],
      [plain('X-A: a\rb\r\n'), 'header line'],
      [plain('Content-Length: 8\r\n'), 'repeated content-length'],
      [plain('host: other\r\n'), 'repeated host'],
      [plain('Transfer-Encoding: chunked\r\n'), 'transfer-encoding'],
      [plain('Expect: 100-continue\r\n'), 'expect'],
      [plain('Upgrade: h2c\r\n'), 'upgrade'],
      [plain('Connection: close\r\n'), 'connection'],
      [plain('Proxy-Connection: close\r\n'), 'proxy-connection'], // llhttp reads it as Connection
      [plain('X-A: 1\r\n'.repeat(FAST_MAX_HEADER_FIELDS)), 'too many header fields'],
      [plain('Connection: keep-alive, Upgrade\r\n'), 'connection'],
      [plain().replace('Host: 127.0.0.1:9780\r\n', ''), 'no host'],
      [plain().replace(/Content-Length: \d+/, 'Content-Length: +8'), 'content-length'],
      [plain().replace(/Content-Length: \d+/, 'Content-Length: 8 8'), 'content-length'],
      [plain().replace(/Content-Length: \d+/, 'Content-Length: 1234567890'), 'content-length'],
      [plain().replace(/Content-Length: \d+\r\n/, ''), 'content-length'],
      [plain().replace(/Content-Length: \d+/, `Content-Length: ${FAST_MAX_BODY_BYTES + 1}`), 'body too large'],
    ];
    for (const [req, why] of cases) assert.equal(declined(req), why, JSON.stringify(req));
  });

  it('keeps header names off the object prototype', () => {
    const p = parse(plain('__proto__: x\r\nconstructor: y\r\n'));
    assert.equal(p.kind, 'request');
    if (p.kind !== 'request') return;
    assert.equal(p.request.headers.constructor, 'y');
    assert.equal(Object.getPrototypeOf(p.request.headers), null);
    assert.equal(declined(plain('__proto__: x\r\n__PROTO__: z\r\n')), 'repeated __proto__');
  });

  it('declines a head longer than node:http allows, whole or not', () => {
    const long = `X-Pad: ${'a'.repeat(FAST_MAX_HEAD_BYTES)}\r\n`;
    assert.equal(declined(plain(long)), 'head too long');
    assert.equal(declined(plain(long).slice(0, FAST_MAX_HEAD_BYTES + 100)), 'head too long');
  });
});
