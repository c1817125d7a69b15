/** Bisection plan, upstream text hygiene, protocol reasons, ingest payload checks and dead-letter re-splitting. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { afterRefusal, afterSettled } from '../../../buffer/bisect.ts';
import { payloadProblem } from '../../../buffer/payload-check.ts';
import { encodeWriteRequest } from '../../../buffer/remote-write.ts';
import { replayBodies } from '../../../buffer/resplit.ts';
import { snappyCompress } from '../../../buffer/snappy.ts';
import type { DeadLetter } from '../../../buffer/types.ts';
import { describeOutcome, oneLine, refusalReason } from '../../../buffer/upstream-text.ts';

const series = (name: string, ts: number) => ({ labels: { __name__: name, job: 'x' }, samples: [{ value: 1, timestampMs: ts }] });
const dl = (body: Buffer, contentEncoding: string | null, contentType = 'application/x-protobuf'): DeadLetter => ({
  id: 'd',
  sink: 's',
  priority: 1,
  failedMs: 1,
  status: 400,
  reason: 'r',
  recordCount: 3,
  contentType,
  contentEncoding,
  body,
});

describe('bisection plan', () => {
  it('halves a refused batch in place and removes settled records', () => {
    const ids = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    let p = afterRefusal([], ids);
    assert.deepEqual(p, [
      [1, 2, 3, 4, 5],
      [6, 7, 8, 9],
    ]);
    p = afterRefusal(p, [1, 2, 3, 4, 5]);
    assert.deepEqual(p, [
      [1, 2, 3],
      [4, 5],
      [6, 7, 8, 9],
    ]);
    p = afterSettled(p, [1, 2, 3]);
    assert.deepEqual(p, [
      [4, 5],
      [6, 7, 8, 9],
    ]);
    // the sealer took only part of the head piece (byte limit) and that part was refused: the rest stays next
    assert.deepEqual(afterRefusal([[1, 2, 3, 4, 5, 6], [7]], [1, 2, 3]), [[1, 2], [3], [4, 5, 6], [7]]);
    assert.deepEqual(afterSettled([[1], [2, 3]], [1, 2, 3, 99]), []);
    assert.deepEqual(afterRefusal([[5]], [5]), [[5]]);
  });
});

describe('upstream text', () => {
  it('is one bounded line, and a bare status reads "HTTP 503"', () => {
    assert.equal(describeOutcome(503, ''), 'HTTP 503');
    assert.equal(describeOutcome(503, undefined), 'HTTP 503');
    assert.equal(describeOutcome(400, 'out of bounds\n\tseries {a="b"}\r\n'), 'HTTP 400: out of bounds series {a="b"}');
    assert.equal(describeOutcome(null, 'connect ECONNREFUSED'), 'no answer: connect ECONNREFUSED');
    const long = oneLine('x'.repeat(1000));
    assert.equal(long.length, 200);
    assert.ok(long.endsWith('…'));
    assert.doesNotMatch(oneLine('a\u001b[31mred\u0007'), /[\u0000-\u001f]/);
  });

  it('names Prometheus refusals', () => {
    assert.match(
      refusalReason('prometheus-remote-write', 400, 'out of bounds\n'),
      /^sample older than the upstream accepts \(out of bounds\) \(HTTP 400: out of bounds\)$/,
    );
    assert.match(refusalReason('prometheus-remote-write', 400, 'too old sample'), /older than the upstream accepts/);
    assert.match(refusalReason('prometheus-remote-write', 400, 'out of order sample'), /out of order/);
    assert.equal(refusalReason('ndjson', 400, 'nope'), 'HTTP 400: nope');
    assert.match(refusalReason('raw', 413, ''), /too large.*HTTP 413/);
  });
});

describe('ingest payload checks', () => {
  const rw = encodeWriteRequest([series('m', 1000)]);
  it('accepts what each protocol can deliver', () => {
    assert.equal(payloadProblem('prometheus-remote-write', 'application/x-protobuf', null, rw), null);
    assert.equal(payloadProblem('prometheus-remote-write', null, 'snappy', snappyCompress(rw)), null);
    assert.equal(payloadProblem('ndjson', 'application/x-ndjson; charset=utf-8', null, Buffer.from('{"a":1}\n\n{"b":2}\n')), null);
    assert.equal(payloadProblem('ndjson', 'application/x-ndjson', 'gzip', gzipSync('{"a":1}')), null);
    assert.equal(payloadProblem('loki', 'application/json', null, Buffer.from('{"streams":[]}')), null);
    assert.equal(payloadProblem('otlp-http', 'application/x-protobuf', 'gzip', gzipSync('opaque')), null);
    assert.equal(payloadProblem('influx-line', null, null, Buffer.from('cpu v=1 1\n')), null);
    assert.equal(payloadProblem('raw', 'anything/at-all', 'br', Buffer.from([0xff])), null);
  });
  it('refuses what will certainly fail, saying why', () => {
    assert.match(payloadProblem('ndjson', 'application/x-ndjson', null, Buffer.from('{"a":1}\n{oops\n')) ?? '', /line 2 is not valid JSON/);
    assert.match(payloadProblem('ndjson', 'application/x-protobuf', null, Buffer.from('{}')) ?? '', /Content-Type "application\/x-protobuf" is not accepted/);
    assert.match(
      payloadProblem('prometheus-remote-write', 'application/x-protobuf', null, Buffer.from('hello world')) ?? '',
      /wire type|past the end|field number 0/,
    );
    assert.match(payloadProblem('prometheus-remote-write', 'application/x-protobuf', 'snappy', rw) ?? '', /does not decode/);
    assert.match(payloadProblem('prometheus-remote-write', 'application/x-protobuf', null, Buffer.alloc(0)) ?? '', /no timeseries/);
    assert.match(payloadProblem('otlp-http', 'application/json', null, Buffer.from('{')) ?? '', /OTLP JSON body is not valid JSON/);
    assert.match(payloadProblem('loki', 'application/json', null, Buffer.from('{"x":1}')) ?? '', /streams/);
    assert.match(payloadProblem('influx-line', 'text/plain', null, Buffer.from([0xc3, 0x28])) ?? '', /./);
    assert.match(payloadProblem('ndjson', null, 'br', Buffer.from('{}')) ?? '', /unsupported Content-Encoding/);
  });
});

describe('dead-letter re-split', () => {
  it('remote write: one record per series, uncompressed, that decode back to the same series', () => {
    const parts = [encodeWriteRequest([series('a', 1)]), encodeWriteRequest([series('b', 2)]), encodeWriteRequest([series('c', 3)])];
    const out = replayBodies('prometheus-remote-write', dl(snappyCompress(Buffer.concat(parts)), 'snappy'));
    assert.equal(out.length, 3);
    assert.deepEqual(
      out.map((o) => Buffer.from(o.body)),
      parts,
    );
    assert.ok(out.every((o) => o.contentEncoding === null && o.contentType === 'application/x-protobuf'));
  });
  it('ndjson: one record per line; undecodable bodies go back as they are', () => {
    const out = replayBodies('ndjson', dl(gzipSync('{"a":1}\n{"b":2}\n'), 'gzip', 'application/x-ndjson'));
    assert.deepEqual(
      out.map((o) => Buffer.from(o.body).toString()),
      ['{"a":1}\n', '{"b":2}\n'],
    );
    const junk = Buffer.from('not gzip');
    assert.deepEqual(
      replayBodies('ndjson', dl(junk, 'gzip')).map((o) => Buffer.from(o.body)),
      [junk],
    );
    assert.equal(replayBodies('otlp-http', dl(junk, null)).length, 1);
  });
});
