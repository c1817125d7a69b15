/** Snappy block codec, remote-write protobuf encoding, merging and sealing of batches. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { snappyCompress, snappyDecompress } from '../../../buffer/snappy.ts';
import { encodeWriteRequest } from '../../../buffer/remote-write.ts';
import { pbFields } from '../../../buffer/protobuf-read.ts';
import { buildBatch } from '../../../buffer/sealer.ts';
import { sampleSeries, transitionSeries } from '../../../buffer/self-telemetry.ts';
import type { StoredRecord } from '../../../buffer/types.ts';

const rec = (id: number, body: string | Buffer, enc: string | null = null, ct: string | null = 'text/plain'): StoredRecord => ({
  id,
  sink: 's',
  priority: 1,
  createdMs: 1,
  expiresMs: null,
  contentType: ct,
  contentEncoding: enc,
  body: Buffer.from(body),
  batchId: null,
});

describe('snappy', () => {
  it('round-trips repetitive, random, empty and long inputs and compresses repetition', () => {
    const cases = [
      Buffer.alloc(0),
      Buffer.from('a'),
      Buffer.from('abcabcabcabcabcabcabcabc'),
      randomBytes(100_000),
      Buffer.from('metric{a="b"} 1\n'.repeat(20_000)),
      Buffer.alloc(300_000, 7),
    ];
    for (const c of cases) assert.ok(snappyDecompress(snappyCompress(c)).equals(c), `len ${c.length}`);
    const rep = Buffer.from('metric{a="b"} 1\n'.repeat(20_000));
    assert.ok(snappyCompress(rep).length < rep.length / 10);
  });
  it('decodes a known reference encoding (literal + 1-byte-offset copy)', () => {
    // "abcdabcdabcd": len 12, literal "abcd", copy len 8 offset 4 → tag ((8-4)<<2)|1 = 0x11, offset 0x04
    const enc = Buffer.from([12, 3 << 2, 0x61, 0x62, 0x63, 0x64, 0x11, 0x04]);
    assert.equal(snappyDecompress(enc).toString(), 'abcdabcdabcd');
    assert.throws(() => snappyDecompress(Buffer.from([5, 0x11, 0x09])));
  });
});

/** An unsigned protobuf varint at `p`, exact up to 2^53 (what a millisecond timestamp needs). */
function readVarint(buf: Uint8Array, p: number): number {
  let v = 0;
  for (let shift = 0; ; shift += 7) {
    const b = buf[p++];
    assert.ok(b !== undefined, 'varint runs past the end');
    v += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return v;
  }
}

describe('remote-write encoding', () => {
  it('encodes a WriteRequest byte-exactly (field tags, sorted labels, double, int64 ms)', () => {
    const buf = encodeWriteRequest([{ labels: { b: '2', __name__: 'm' }, samples: [{ value: 1, timestampMs: 1 }] }]);
    const label = (n: string, v: string) => [0x0a, 2 + n.length + 2 + v.length, 0x0a, n.length, ...Buffer.from(n), 0x12, v.length, ...Buffer.from(v)];
    const sample = [0x12, 11, 0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x10, 1];
    const ts = [...label('__name__', 'm'), ...label('b', '2'), ...sample];
    assert.deepEqual([...buf], [0x0a, ts.length, ...ts]);
  });
  it('encodes millisecond timestamps above 2^32 and values exactly (decoded back through the wire format)', () => {
    const samples = [
      { value: 0, timestampMs: 1_700_000_000_123 },
      { value: -2.5e-7, timestampMs: 2 ** 53 - 1 },
      { value: 42, timestampMs: 4_294_967_297 },
    ];
    const buf = encodeWriteRequest([{ labels: { __name__: 'x' }, samples }]);
    const [series] = pbFields(buf).filter((f) => f.field === 1);
    assert.ok(series, 'one timeseries');
    const decoded = pbFields(buf, series.valueStart, series.end)
      .filter((f) => f.field === 2)
      .map((s) => {
        const parts = pbFields(buf, s.valueStart, s.end);
        const value = parts.find((f) => f.field === 1);
        const ts = parts.find((f) => f.field === 2);
        assert.ok(value && ts, 'sample has a value and a timestamp');
        return { value: Buffer.from(buf.subarray(value.start + 1, value.end)).readDoubleLE(0), timestampMs: readVarint(buf, ts.start + 1) };
      });
    assert.deepEqual(decoded, samples);
  });
});

describe('sealing', () => {
  it('merges line records, gzip by default for ndjson, stable content headers', () => {
    const b = buildBatch({ name: 's', protocol: 'ndjson', compression: 'auto' }, [rec(1, '{"a":1}'), rec(2, '{"a":2}\n')], 5, () => 'ID');
    assert.ok(b);
    assert.equal(b.batch.id, 'ID');
    assert.equal(b.batch.contentEncoding, 'gzip');
    assert.equal(gunzipSync(b.batch.body).toString(), '{"a":1}\n{"a":2}\n');
    assert.deepEqual(b.recordIds, [1, 2]);
  });
  it('stops merging at a change of content type and keeps pre-encoded bodies opaque', () => {
    const b = buildBatch({ name: 's', protocol: 'influx-line', compression: 'none' }, [rec(1, 'm v=1'), rec(2, 'm v=2', null, 'other')], 5);
    assert.deepEqual(b?.recordIds, [1]);
    const o = buildBatch({ name: 's', protocol: 'ndjson', compression: 'auto' }, [rec(1, 'zz', 'gzip'), rec(2, 'yy', 'gzip')], 5);
    assert.deepEqual(o?.recordIds, [1]);
    assert.equal(Buffer.from(o!.batch.body).toString(), 'zz');
    assert.equal(o?.batch.contentEncoding, 'gzip');
  });
  it('remote write: identity protobufs concatenate, then snappy', () => {
    const a = encodeWriteRequest([{ labels: { __name__: 'a' }, samples: [{ value: 1, timestampMs: 10 }] }]);
    const c = encodeWriteRequest([{ labels: { __name__: 'c' }, samples: [{ value: 2, timestampMs: 20 }] }]);
    const b = buildBatch(
      { name: 's', protocol: 'prometheus-remote-write', compression: 'auto' },
      [rec(1, a, null, 'application/x-protobuf'), rec(2, c, null, 'application/x-protobuf')],
      5,
    );
    assert.equal(b?.batch.contentEncoding, 'snappy');
    assert.ok(snappyDecompress(b!.batch.body).equals(Buffer.concat([a, c])));
  });
  it('opaque protocols go one record per request', () => {
    const b = buildBatch({ name: 's', protocol: 'otlp-http', compression: 'auto' }, [rec(1, 'x'), rec(2, 'y')], 5);
    assert.deepEqual(b?.recordIds, [1]);
  });
});

describe('self telemetry series', () => {
  it('exports measured fields only, at measurement time', () => {
    const s = sampleSeries({ uplink: 'wan', kind: 'light', atMs: 1234, rttMs: 20, lossPercent: 0, bytesUsed: 100, reachable: true }, 'n1');
    const names = s.map((x) => x.labels.__name__).sort();
    assert.deepEqual(names, ['linkward_probe_bytes_used', 'linkward_probe_loss_percent', 'linkward_probe_reachable', 'linkward_probe_rtt_milliseconds']);
    assert.ok(s.every((x) => x.samples[0]!.timestampMs === 1234 && x.labels.uplink === 'wan' && x.labels.node === 'n1'));
  });
  it('emits transitions only on change', () => {
    const a = {
      atMs: 1,
      node: 'healthy' as const,
      active: 'wan',
      uplinks: { wan: { name: 'wan', health: 'healthy' as const, sinceMs: 1, reasons: [], latest: { atMs: 1 } } },
    };
    const b = { ...a, atMs: 2, node: 'down' as const, uplinks: { wan: { ...a.uplinks.wan, health: 'down' as const, sinceMs: 2 } } };
    assert.equal(transitionSeries(null, a, 'n').length, 2);
    assert.equal(transitionSeries(a, a, 'n').length, 0);
    const t = transitionSeries(a, b, 'n');
    assert.deepEqual(
      t.map((x) => [x.labels.__name__, x.samples[0]!.value, x.samples[0]!.timestampMs]),
      [
        ['linkward_node_health_state', 3, 2],
        ['linkward_uplink_health_state', 3, 2],
      ],
    );
  });
});
