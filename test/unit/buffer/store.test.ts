/** Runs the Store contract against SqliteStore (temp file) and MemoryStore, plus SQLite-only open/corruption checks. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storeContractTests } from '../../support/buffer-store-contract.ts';
import { MemoryStore } from '../../../buffer/store-memory.ts';
import { SqliteStore } from '../../../buffer/store-sqlite.ts';
import { CACHE_SIZE_KIB, openBufferDb } from '../../../buffer/sqlite-open.ts';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'buffer-store-'));
}

storeContractTests('memory', () => ({ store: new MemoryStore(), cleanup: () => {} }));
storeContractTests('sqlite', () => {
  const dir = tempDir();
  return { store: new SqliteStore(openBufferDb(join(dir, 'buffer.db'), 1).db), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
});

describe('SQLite buffer file', () => {
  it('uses WAL, synchronous=FULL, incremental auto-vacuum, a 2 MiB page cache, and survives reopen with counters rebuilt', () => {
    const dir = tempDir();
    try {
      const path = join(dir, 'buffer.db');
      const { db } = openBufferDb(path, 1);
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.pragma('synchronous', { simple: true }), 2);
      assert.equal(db.pragma('auto_vacuum', { simple: true }), 2);
      assert.equal(db.pragma('temp_store', { simple: true }), 2);
      // Not better-sqlite3's 16 MB default: the page cache is most of the RSS a growing buffer adds under load.
      assert.equal(db.pragma('cache_size', { simple: true }), -CACHE_SIZE_KIB);
      const s = new SqliteStore(db);
      s.appendMany([{ sink: 'a', priority: 1, createdMs: 5, expiresMs: null, contentType: null, contentEncoding: null, body: Buffer.alloc(100) }]);
      s.close();
      const s2 = new SqliteStore(openBufferDb(path, 2).db);
      assert.deepEqual(s2.usage(), { records: 1, bytes: 100 });
      s2.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shrinks the file after a large backlog drains (incremental vacuum + WAL truncate)', () => {
    const dir = tempDir();
    try {
      const path = join(dir, 'buffer.db');
      const s = new SqliteStore(openBufferDb(path, 1).db);
      const body = Buffer.alloc(4000, 7);
      for (let i = 0; i < 20; i++)
        s.appendMany(
          Array.from({ length: 100 }, () => ({ sink: 'a', priority: 1, createdMs: 1, expiresMs: null, contentType: null, contentEncoding: null, body })),
        );
      s.maintenance();
      const full = statSync(path).size;
      s.purge({ sink: null, records: true, deadLetters: false });
      for (let i = 0; i < 5; i++) s.maintenance();
      const after = statSync(path).size;
      const wal = existsSync(path + '-wal') ? statSync(path + '-wal').size : 0;
      s.close();
      assert.ok(full > 8_000_000, `file grew to ${full}`);
      assert.ok(after < full / 4, `file shrank from ${full} to ${after}`);
      assert.ok(wal < 1_000_000, `wal truncated to ${wal}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('moves a corrupt file aside (kept) and starts fresh', () => {
    const dir = tempDir();
    try {
      const path = join(dir, 'buffer.db');
      writeFileSync(path, Buffer.alloc(8192, 0x5a));
      const { db, movedAside } = openBufferDb(path, 42);
      assert.equal(movedAside, `${path}.corrupt-42`);
      assert.ok(existsSync(movedAside));
      const s = new SqliteStore(db);
      assert.deepEqual(s.usage(), { records: 0, bytes: 0 });
      s.close();
      assert.ok(readdirSync(dir).includes('buffer.db.corrupt-42'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
