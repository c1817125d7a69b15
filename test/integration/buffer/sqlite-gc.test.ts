/** Guards the removal of the statement-retention workaround: collected better-sqlite3 Statements must not abort Node. */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * better-sqlite3 12.x aborted Node 24 ("Assertion failed: (env) != nullptr" in Statement::~Statement,
 * WiseLibs/better-sqlite3#1515) when a GC finalised a Statement; 12.9.0 did so within the first round of this
 * loop, 13.2.0 survives it (docs/bench/buffer.md). The buffer now prepares statements without keeping them
 * reachable for ever, so pinning better-sqlite3 back below 13 must fail here, not in production.
 */
const CHILD = `
const Database = require('better-sqlite3');
const db = new Database(process.argv[1]);
db.pragma('journal_mode = WAL');
db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)');
for (let round = 0; round < 10; round++) {
  for (let i = 0; i < 2000; i++) {
    const s = db.prepare(i % 2 ? 'INSERT INTO t (v) VALUES (?)' : 'SELECT * FROM t WHERE id = ?');
    if (i % 2) s.run(Buffer.alloc(16)); else s.get(i);
    db.pragma('cache_size');
  }
  globalThis.gc();
}
db.close();
for (let i = 0; i < 500; i++) new Database(':memory:').prepare('SELECT 1').get();
globalThis.gc();
console.log('survived');
`;

it('dropping 40,000 prepared statements under forced and allocation GCs does not abort the process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'buffer-sqlite-gc-'));
  try {
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', CHILD, join(dir, 'gc.db')], { cwd: process.cwd(), encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.signal, null, `child killed by ${r.signal}: ${r.stderr.slice(0, 400)}`);
    assert.equal(r.status, 0, r.stderr.slice(0, 400));
    assert.match(r.stdout, /survived/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
