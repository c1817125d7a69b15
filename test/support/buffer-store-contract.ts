/** Contract test suite every buffer Store implementation must pass (run once per implementation). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { NewRecord, Store } from '../../buffer/types.ts';

export type StoreFactory = () => { store: Store; cleanup(): void };

const rec = (sink: string, priority: number, body: string, createdMs = 1000, expiresMs: number | null = null): NewRecord => ({
  sink,
  priority,
  createdMs,
  expiresMs,
  contentType: 'application/x-ndjson',
  contentEncoding: null,
  body: Buffer.from(body),
});

/** Registers the shared Store tests under `describe(name)`. */
export function storeContractTests(name: string, factory: StoreFactory): void {
  describe(`Store contract: ${name}`, () => {
    const use = (fn: (s: Store) => void) => () => {
      const { store, cleanup } = factory();
      try {
        fn(store);
      } finally {
        store.close();
        cleanup();
      }
    };

    it(
      'appends in order, counts usage and depth per lane',
      use((s) => {
        const ids = s.appendMany([rec('a', 1, 'xx', 10), rec('a', 1, 'yyy', 20), rec('b', 0, 'z', 30)]);
        assert.equal(ids.length, 3);
        assert.ok(ids[0]! < ids[1]! && ids[1]! < ids[2]!);
        assert.deepEqual(s.usage(), { records: 3, bytes: 6 });
        assert.deepEqual(s.depth(), [
          { sink: 'a', priority: 1, records: 2, bytes: 5, oldestMs: 10 },
          { sink: 'b', priority: 0, records: 1, bytes: 1, oldestMs: 30 },
        ]);
        assert.deepEqual(
          s.listRecords('a', 10).map((r) => Buffer.from(r.body).toString()),
          ['xx', 'yyy'],
        );
      }),
    );

    it(
      'a store with room is not short of space',
      use((s) => {
        s.appendMany([rec('a', 1, 'x')]);
        assert.equal(s.spaceShort(), false);
      }),
    );

    it(
      'unsealed respects record and byte limits but returns at least one',
      use((s) => {
        s.appendMany([rec('a', 1, 'aaaa'), rec('a', 1, 'bbbb'), rec('a', 1, 'cccc'), rec('a', 2, 'low')]);
        assert.equal(s.unsealed({ sink: 'a', priority: 1, maxRecords: 10, maxBytes: 8 }).length, 2);
        assert.equal(s.unsealed({ sink: 'a', priority: 1, maxRecords: 1, maxBytes: 100 }).length, 1);
        assert.equal(s.unsealed({ sink: 'a', priority: 1, maxRecords: 10, maxBytes: 1 }).length, 1);
        assert.equal(s.unsealed({ sink: 'a', priority: 2, maxRecords: 10, maxBytes: 100 }).length, 1);
      }),
    );

    it(
      'seal → sealedBatch is byte-identical; ack deletes batch and records',
      use((s) => {
        const ids = s.appendMany([rec('a', 1, 'one'), rec('a', 1, 'two'), rec('a', 1, 'three')]);
        s.seal(
          { id: 'B1', sink: 'a', priority: 1, createdMs: 5, contentType: 't', contentEncoding: 'gzip', body: Buffer.from('one\ntwo'), recordCount: 2 },
          ids.slice(0, 2),
        );
        assert.deepEqual(
          s.unsealed({ sink: 'a', priority: 1, maxRecords: 10, maxBytes: 100 }).map((r) => r.id),
          [ids[2]],
        );
        const b = s.sealedBatch('a', 1);
        assert.ok(b);
        assert.equal(b.id, 'B1');
        assert.equal(Buffer.from(b.body).toString(), 'one\ntwo');
        assert.equal(b.contentEncoding, 'gzip');
        s.recordAttempt('B1');
        assert.equal(s.sealedBatch('a', 1)?.attempts, 1);
        assert.deepEqual(s.ack('B1'), { sink: 'a', records: 2, bytes: 6 });
        assert.equal(s.sealedBatch('a', 1), null);
        assert.deepEqual(s.usage(), { records: 1, bytes: 5 });
      }),
    );

    it(
      'unseal returns records to the pool (bisection) with their ids; unsealedByIds offers loose ones in order',
      use((s) => {
        const ids = s.appendMany([rec('a', 1, 'one'), rec('a', 1, 'two')]);
        s.seal({ id: 'B2', sink: 'a', priority: 1, createdMs: 5, contentType: null, contentEncoding: null, body: Buffer.from('x'), recordCount: 2 }, ids);
        assert.deepEqual(s.unseal('B2'), ids);
        assert.equal(s.sealedBatch('a', 1), null);
        assert.equal(s.unsealed({ sink: 'a', priority: 1, maxRecords: 10, maxBytes: 100 }).length, 2);
        assert.deepEqual(
          s.unsealedByIds([ids[1]!, 999, ids[0]!]).map((r) => Buffer.from(r.body).toString()),
          ['one', 'two'],
        );
        s.seal({ id: 'B5', sink: 'a', priority: 1, createdMs: 5, contentType: null, contentEncoding: null, body: Buffer.from('x'), recordCount: 1 }, [ids[0]!]);
        assert.deepEqual(
          s.unsealedByIds(ids).map((r) => r.id),
          [ids[1]],
          'sealed records are not offered',
        );
      }),
    );

    it(
      'dead-letter, list and replay',
      use((s) => {
        const ids = s.appendMany([rec('a', 0, 'bad')]);
        s.seal({ id: 'B3', sink: 'a', priority: 0, createdMs: 5, contentType: 'x', contentEncoding: null, body: Buffer.from('bad'), recordCount: 1 }, ids);
        assert.deepEqual(s.deadLetter('B3', 'http 400', 400, 99), { sink: 'a', records: 1, bytes: 3 });
        assert.deepEqual(s.usage(), { records: 0, bytes: 0 });
        const dl = s.listDeadLetters(10);
        assert.equal(dl.length, 1);
        assert.equal(dl[0]!.status, 400);
        assert.equal(dl[0]!.reason, 'http 400');
        assert.equal(s.deadLetterCount(), 1);
        assert.deepEqual(s.replayDeadLetters(null, 100), { deadLetters: 1, records: 1 });
        assert.equal(s.listDeadLetters(10).length, 0);
        const back = s.listRecords(null, 10);
        assert.equal(back.length, 1);
        assert.equal(Buffer.from(back[0]!.body).toString(), 'bad');
        assert.equal(back[0]!.contentType, 'x');
      }),
    );

    it(
      'replay cuts a dead letter into the records a split function returns',
      use((s) => {
        const ids = s.appendMany([rec('a', 1, 'x\ny\nz')]);
        s.seal({ id: 'B4', sink: 'a', priority: 1, createdMs: 5, contentType: 'x', contentEncoding: null, body: Buffer.from('x\ny\nz'), recordCount: 3 }, ids);
        s.deadLetter('B4', 'HTTP 400', 400, 99);
        assert.equal(s.listDeadLetters(1)[0]!.recordCount, 3);
        const r = s.replayDeadLetters(['B4'], 100, (d) =>
          Buffer.from(d.body)
            .toString()
            .split('\n')
            .map((l) => ({ contentType: d.contentType, contentEncoding: null, body: Buffer.from(l) })),
        );
        assert.deepEqual(r, { deadLetters: 1, records: 3 });
        assert.deepEqual(
          s.listRecords('a', 10).map((x) => Buffer.from(x.body).toString()),
          ['x', 'y', 'z'],
        );
        assert.deepEqual(s.usage(), { records: 3, bytes: 3 });
        assert.equal(s.deadLetterCount(), 0);
      }),
    );

    it(
      'dropOldest evicts the lowest priority first, oldest first, whole sealed batches',
      use((s) => {
        const hi = s.appendMany([rec('h', 0, '1111'), rec('h', 0, '2222')]);
        const lo = s.appendMany([rec('l', 2, 'aaaa'), rec('l', 2, 'bbbb'), rec('l', 2, 'cccc')]);
        s.seal(
          { id: 'L', sink: 'l', priority: 2, createdMs: 1, contentType: null, contentEncoding: null, body: Buffer.from('aaaabbbb'), recordCount: 2 },
          lo.slice(0, 2),
        );
        const d = s.dropOldest(1, 0);
        assert.deepEqual(d, [{ sink: 'l', records: 2, bytes: 8 }]);
        assert.equal(s.sealedBatch('l', 2), null);
        const d2 = s.dropOldest(6, 0);
        assert.deepEqual(d2, [
          { sink: 'h', records: 1, bytes: 4 },
          { sink: 'l', records: 1, bytes: 4 },
        ]);
        assert.deepEqual(
          s.listRecords(null, 10).map((r) => r.id),
          [hi[1]],
        );
        assert.deepEqual(s.dropOldest(0, 1), [{ sink: 'h', records: 1, bytes: 4 }]);
        assert.deepEqual(s.dropOldest(100, 0), []);
      }),
    );

    it(
      'expire drops records past their TTL (and their sealed batch)',
      use((s) => {
        const ids = s.appendMany([rec('a', 1, 'old', 1, 50), rec('a', 1, 'new', 2, 500), rec('a', 1, 'never', 3, null)]);
        s.seal(
          { id: 'E', sink: 'a', priority: 1, createdMs: 1, contentType: null, contentEncoding: null, body: Buffer.from('oldnew'), recordCount: 2 },
          ids.slice(0, 2),
        );
        assert.deepEqual(s.expire(100), [{ sink: 'a', records: 2, bytes: 6 }]);
        assert.equal(s.sealedBatch('a', 1), null);
        assert.deepEqual(s.usage(), { records: 1, bytes: 5 });
      }),
    );

    it(
      'expire works in slices of about maxRecords',
      use((s) => {
        s.appendMany(Array.from({ length: 10 }, (_, i) => rec('a', 1, `r${i}`, 1, 50)));
        assert.deepEqual(s.expire(100, 4), [{ sink: 'a', records: 4, bytes: 8 }]);
        assert.deepEqual(s.expire(100, 4), [{ sink: 'a', records: 4, bytes: 8 }]);
        assert.deepEqual(s.expire(100, 4), [{ sink: 'a', records: 2, bytes: 4 }]);
        assert.deepEqual(s.expire(100, 4), []);
      }),
    );

    it(
      'purge by sink, all, and dead letters',
      use((s) => {
        s.appendMany([rec('a', 1, 'x'), rec('b', 1, 'y'), rec('b', 1, 'z')]);
        assert.deepEqual(s.purge({ sink: 'b', records: true, deadLetters: false }), { records: 2, deadLetters: 0 });
        assert.deepEqual(s.usage(), { records: 1, bytes: 1 });
        assert.deepEqual(s.purge({ sink: null, records: true, deadLetters: true }), { records: 1, deadLetters: 0 });
        assert.deepEqual(s.depth(), []);
        s.maintenance();
      }),
    );

    it('throws LW_BUFFER_UNAVAILABLE after close', () => {
      const { store, cleanup } = factory();
      store.close();
      try {
        assert.throws(() => store.appendMany([rec('a', 1, 'x')]), { code: 'LW_BUFFER_UNAVAILABLE' });
      } finally {
        cleanup();
      }
    });
  });
}
