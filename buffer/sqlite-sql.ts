/** SQL of the SQLite store, prepared once per connection (names match SqliteStore's statement map). */
import type { Statement } from 'better-sqlite3';

export const STORE_SQL = {
  insert:
    'INSERT INTO buf_records (sink, priority, created_ms, expires_ms, content_type, content_encoding, body, size, batch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)',
  // AUTOINCREMENT: every id a later insert gets is above this one, even after deletes.
  lastId: "SELECT seq FROM sqlite_sequence WHERE name = 'buf_records'",
  countAfter: 'SELECT COUNT(*) AS n FROM buf_records WHERE id > ?',
  sealed: 'SELECT * FROM buf_batches WHERE sink = ? AND priority = ? ORDER BY seq LIMIT 1',
  unsealedSizes: 'SELECT size FROM buf_records WHERE sink = ? AND priority = ? AND batch_id IS NULL AND created_ms >= ? ORDER BY id LIMIT ?',
  unsealed: 'SELECT * FROM buf_records WHERE sink = ? AND priority = ? AND batch_id IS NULL AND created_ms >= ? ORDER BY id LIMIT ?',
  insBatch: 'INSERT INTO buf_batches (id, sink, priority, created_ms, content_type, content_encoding, body, record_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  mark: 'UPDATE buf_records SET batch_id = ? WHERE id = ? AND batch_id IS NULL',
  delBatch: 'DELETE FROM buf_batches WHERE id = ? RETURNING *',
  batchBytes: 'SELECT length(body) AS n FROM buf_batches WHERE id = ?',
  delBatchRecords: 'DELETE FROM buf_records WHERE batch_id = ? RETURNING sink, priority, size',
  unmark: 'UPDATE buf_records SET batch_id = NULL WHERE batch_id = ? RETURNING id',
  byIds: 'SELECT * FROM buf_records WHERE id IN (SELECT value FROM json_each(?)) AND batch_id IS NULL ORDER BY id',
  attempt: 'UPDATE buf_batches SET attempts = attempts + 1 WHERE id = ?',
  insDead:
    'INSERT OR REPLACE INTO buf_dead_letters (id, sink, priority, failed_ms, status, reason, record_count, content_type, content_encoding, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  trimDead: 'DELETE FROM buf_dead_letters WHERE seq <= (SELECT MAX(seq) FROM buf_dead_letters) - ?',
  evictScan: 'SELECT id, batch_id, size FROM buf_records ORDER BY priority DESC, id ASC LIMIT ?',
  delRecord: 'DELETE FROM buf_records WHERE id = ? RETURNING sink, priority, size',
  expiredBatches: 'SELECT DISTINCT batch_id FROM buf_records WHERE expires_ms IS NOT NULL AND expires_ms < ? AND batch_id IS NOT NULL LIMIT ?',
  expire:
    'DELETE FROM buf_records WHERE id IN (SELECT id FROM buf_records WHERE expires_ms IS NOT NULL AND expires_ms < ? AND batch_id IS NULL LIMIT ?) RETURNING sink, priority, size',
  // Clock rebase (buffer/clock-step.ts), one slice of records (ids in (@after, @end]) per transaction: NULL + delta
  // stays NULL, so records without a TTL keep none. `+`: walk the slice by id, never a time index over the whole table.
  maxId: 'SELECT MAX(id) AS id FROM buf_records',
  sliceEnd: 'SELECT id FROM buf_records WHERE id > ? AND id <= ? ORDER BY id LIMIT 1 OFFSET ?',
  shiftRecords:
    'UPDATE buf_records SET created_ms = created_ms + @delta, expires_ms = expires_ms + @delta WHERE id > @after AND id <= @end AND +created_ms <= @cutoff',
  shiftBatches: 'UPDATE buf_batches SET created_ms = created_ms + @delta WHERE created_ms <= @cutoff',
  clampCreated: 'UPDATE buf_records SET created_ms = @now WHERE id > @after AND id <= @end AND +created_ms > @now',
  clampBatchCreated: 'UPDATE buf_batches SET created_ms = @now WHERE created_ms > @now',
  clampExpires: 'UPDATE buf_records SET expires_ms = @cap WHERE id > @after AND id <= @end AND +expires_ms > @cap AND +sink = @sink',
  getMeta: 'SELECT value FROM buf_meta WHERE key = ?',
  setMeta: 'INSERT OR REPLACE INTO buf_meta (key, value) VALUES (?, ?)',
  delMeta: 'DELETE FROM buf_meta WHERE key = ?',
  // Oldest record of a lane: the first loose one or one in a sealed batch (both via indexes, never a lane scan).
  oldest: `SELECT MIN(c) AS created_ms FROM (
    SELECT * FROM (SELECT created_ms AS c FROM buf_records WHERE sink = @sink AND priority = @priority AND batch_id IS NULL ORDER BY id LIMIT 1)
    UNION ALL SELECT MIN(created_ms) FROM buf_records WHERE batch_id IN (SELECT id FROM buf_batches WHERE sink = @sink AND priority = @priority))`,
  listAll: 'SELECT * FROM buf_records ORDER BY id LIMIT ?',
  listSink: 'SELECT * FROM buf_records WHERE sink = ? ORDER BY id LIMIT ?',
  listDead: 'SELECT * FROM buf_dead_letters ORDER BY seq DESC LIMIT ?',
  allDead: 'SELECT * FROM buf_dead_letters ORDER BY seq',
  oneDead: 'SELECT * FROM buf_dead_letters WHERE id = ?',
  delDead: 'DELETE FROM buf_dead_letters WHERE id = ?',
  purgeDead: 'DELETE FROM buf_dead_letters',
  purgeAll: 'DELETE FROM buf_records',
  purgeSink: 'DELETE FROM buf_records WHERE sink = ?',
  purgeBatchesAll: 'DELETE FROM buf_batches',
  purgeBatchesSink: 'DELETE FROM buf_batches WHERE sink = ?',
  countDead: 'SELECT COUNT(*) AS n FROM buf_dead_letters',
} as const;

export type StoreSqlName = keyof typeof STORE_SQL;

/** The prepared statements of one connection (STORE_SQL by name). */
export type StoreStatements = Record<StoreSqlName, Statement>;
