/** Store.shiftTimes / clampTimes on both stores: which rows move, sealed batches along, dead letters never. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBufferDb } from '../../../buffer/sqlite-open.ts';
import { MemoryStore } from '../../../buffer/store-memory.ts';
import { SqliteStore } from '../../../buffer/store-sqlite.ts';
import type { Store } from '../../../buffer/types.ts';
import { timedRecord } from '../../support/buffer-records.ts';

const H = 3_600_000;
const T = Date.UTC(2026, 11, 5, 12);

const rec = timedRecord;

const batch = (id: string, createdMs: number) => ({
  id,
  sink: 'a',
  priority: 1,
  createdMs,
  contentType: null,
  contentEncoding: null,
  body: Buffer.from(id),
  recordCount: 1,
});

const times = (s: Store): [string, number, number | null][] => s.listRecords(null, 100).map((r) => [Buffer.from(r.body).toString(), r.createdMs, r.expiresMs]);

const stores: [string, () => { store: Store; cleanup(): void }][] = [
  ['memory', () => ({ store: new MemoryStore(), cleanup: () => {} })],
  [
    'sqlite',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'buffer-times-'));
      return { store: new SqliteStore(openBufferDb(join(dir, 'buffer.db'), 1).db), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
    },
  ],
];

for (const [name, make] of stores) {
  describe(`stored times across clock steps: ${name}`, () => {
    it('shiftTimes moves records (and expiry) and sealed batches at or before the cutoff; later rows and dead letters stay', () => {
      const { store: s, cleanup } = make();
      try {
        const [sealedId, deadId] = s.appendMany([rec('a', 'sealed', T - 2 * H, T - H), rec('a', 'dead', T - 2 * H, null)]);
        s.seal(batch('b-old', T - 2 * H), [sealedId!]);
        s.seal(batch('b-dead', T - 2 * H), [deadId!]);
        s.deadLetter('b-dead', 'refused', 400, T - 2 * H);
        s.appendMany([rec('a', 'old', T - H, T + H), rec('a', 'no-ttl', T - H, null), rec('a', 'at-cutoff', T, T + H), rec('a', 'new', T + 1, T + H)]);
        assert.equal(s.shiftTimes([{ deltaMs: 5 * H, cutoffMs: T }]), 4);
        assert.deepEqual(times(s), [
          ['sealed', T + 3 * H, T + 4 * H],
          ['old', T + 4 * H, T + 6 * H],
          ['no-ttl', T + 4 * H, null],
          ['at-cutoff', T + 5 * H, T + 6 * H],
          ['new', T + 1, T + H],
        ]);
        assert.equal(s.sealedBatch('a', 1)?.createdMs, T + 3 * H);
        assert.equal(s.listDeadLetters(10)[0]?.failedMs, T - 2 * H);
      } finally {
        s.close();
        cleanup();
      }
    });

    it('shifts waiting together apply in order: rows of the first move again with the second', () => {
      const { store: s, cleanup } = make();
      try {
        s.appendMany([rec('a', 'before-both', T - H, T), rec('a', 'between', T + 2 * H, T + 3 * H), rec('a', 'after', T + 10 * H, null)]);
        // first step +5 h seen at T + 5 h (cutoff T); second +1 h seen at T + 7 h (cutoff T + 6 h)
        assert.equal(
          s.shiftTimes([
            { deltaMs: 5 * H, cutoffMs: T },
            { deltaMs: H, cutoffMs: T + 6 * H },
          ]),
          2,
        );
        assert.deepEqual(times(s), [
          ['before-both', T + 5 * H, T + 6 * H],
          ['between', T + 3 * H, T + 4 * H],
          ['after', T + 10 * H, null],
        ]);
      } finally {
        s.close();
        cleanup();
      }
    });

    it('clampTimes caps created at now and expiry per sink; sinks without a cap keep their expiry', () => {
      const { store: s, cleanup } = make();
      try {
        const [id] = s.appendMany([rec('a', 'future', T + 9 * H, T + 20 * H)]);
        s.seal(batch('b-future', T + 9 * H), [id!]);
        s.appendMany([rec('a', 'ok', T - H, T + H), rec('b', 'uncapped', T + H, T + 50 * H)]);
        assert.deepEqual(s.clampTimes(T, new Map([['a', T + 2 * H]])), { created: 2, expires: 1 });
        assert.deepEqual(times(s), [
          ['future', T, T + 2 * H],
          ['ok', T - H, T + H],
          ['uncapped', T, T + 50 * H],
        ]);
        assert.equal(s.sealedBatch('a', 1)?.createdMs, T);
      } finally {
        s.close();
        cleanup();
      }
    });
  });
}
