/** The buffer's real adapters (SQLite in state.dir with its ledger and writer thread, undici, Math.random): built only by the composition root, labs and benches. */
import { join } from 'node:path';
import type { AgentContext } from '../agent/runtime/component.ts';
import { BufferError } from './errors.ts';
import { LEDGER_SUFFIX, RecordLedger } from './ledger.ts';
import { Recovery } from './recovery.ts';
import { UndiciSender } from './sender.ts';
import type { BufferDeps, OpenedStore, StoreEnv } from './service.ts';
import { openBufferDb } from './sqlite-open.ts';
import { SqliteStore } from './store-sqlite.ts';
import { WriterThread } from './writer-thread.ts';

/** File name of the buffer database inside state.dir (separate from state.db so its fsyncs and size are its own). */
export const BUFFER_DB_FILE = 'buffer.db';

/**
 * Opens state.dir/buffer.db: quarantines a corrupt file (counted and logged), starts the writer thread if configured,
 * opens the ledger, audits it against the file and salvages a quarantined file. Throws when the buffer cannot work;
 * whatever it opened before the failure is released first.
 */
export function openSqliteBuffer(ctx: AgentContext, env: StoreEnv): OpenedStore {
  const path = join(ctx.stateDir, BUFFER_DB_FILE);
  const r = openBufferDb(path, env.nowMs());
  if (r.movedAside) {
    env.metrics.corrupt.inc();
    env.log.error(
      { code: BufferError.CORRUPT, path, movedTo: r.movedAside },
      'telemetry buffer file was corrupt; moved aside for inspection and started a fresh one (records in it are not forwarded)',
    );
  }
  let writer: WriterThread | null = null;
  let ledger: RecordLedger | null = null;
  let store: SqliteStore | null = null;
  try {
    writer = ctx.config.buffer.commit.writerThread ? new WriterThread(path) : null;
    ledger = new RecordLedger(path + LEDGER_SUFFIX, (ms, fn) => ctx.clock.setTimer(ms, fn));
    const sqlite = new SqliteStore(r.db, `${path}.reserve`, writer, ledger);
    store = sqlite;
    const recovery = new Recovery(ledger, store, env.metrics, env.log, env.nowMs, env.wake);
    if (r.movedAside !== null) recovery.quarantined(r.movedAside);
    recovery.audit(store.usage().records, (id) => sqlite.recordsAfter(id));
    const opened = { writer, store, ledger };
    return {
      store,
      livePath: path,
      movedAside: r.movedAside,
      recovery,
      // The writer thread first (it holds its own connection), then the main connection, then the ledger.
      close: async () => {
        await opened.writer?.close();
        opened.store.close();
        opened.ledger.close();
      },
    };
  } catch (e) {
    void writer?.close().catch(() => undefined);
    if (store) store.close();
    else r.db.close();
    ledger?.close();
    throw e;
  }
}

/** The adapters that touch this host: the daemon's, and the labs', benches' and tests' that want the real file and HTTP. */
export function realBufferDeps(ctx: AgentContext): BufferDeps {
  const timeouts = ctx.config.buffer.timeouts;
  return {
    openStore: (env) => openSqliteBuffer(ctx, env),
    senderFactory: (sink, headers) => new UndiciSender(sink, headers, timeouts),
    random: Math.random,
  };
}
