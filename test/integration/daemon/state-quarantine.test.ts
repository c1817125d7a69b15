/** A corrupt state.db does not stop the agent: it is moved aside, replaced, logged with a code, counted and shown. */
// Issue 13: a damaged state.db made the daemon exit 1 on every start (systemd gave up after 10) until a person moved it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startDaemon } from '../../support/daemon.ts';

/** Bytes that are not an SQLite database (SQLite answers SQLITE_NOTADB). */
const GARBAGE = Buffer.alloc(8192, 'not a database, a torn write ');

test('a corrupt state.db is quarantined to state.db.corrupt-<ms> and replaced; the agent becomes ready', async (t) => {
  const stateDir = mkdtempSync(join(tmpdir(), 'lw-state-q-'));
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  writeFileSync(join(stateDir, 'state.db'), GARBAGE);
  writeFileSync(join(stateDir, 'state.db-wal'), GARBAGE);
  const d = await startDaemon({ probes: { enabled: false }, kubernetes: { enabled: false } }, { stateDir });
  t.after(() => d.cleanup());

  const warn = d.logs.find((l) => l.code === 'LW_STATE_DB_QUARANTINED');
  assert.ok(warn, `a warning with code LW_STATE_DB_QUARANTINED (logs: ${JSON.stringify(d.logs.map((l) => l.msg))})`);
  // (SQLite itself discards a WAL whose header is not valid when the connection closes; a valid one moves along)
  const moved = readdirSync(stateDir).filter((f) => /^state\.db\.corrupt-\d+$/.test(f));
  assert.equal(moved.length, 1, `state.db moved aside: ${readdirSync(stateDir).join(', ')}`);
  assert.equal(warn.movedTo, join(stateDir, moved[0] as string));

  const status = (await (await request(`${d.baseUrl}/v1/status`)).body.json()) as { ready: boolean; stateDbQuarantinedTo?: string };
  assert.equal(status.ready, true);
  assert.equal(status.stateDbQuarantinedTo, warn.movedTo);
  const metrics = await (await request(`${d.baseUrl}/metrics`)).body.text();
  assert.match(metrics, /^linkward_state_db_quarantined_total 1$/m);

  // the new state.db is a working one: a restart keeps it and quarantines nothing more
  assert.equal(await d.stop(), 0);
  const again = await startDaemon({ probes: { enabled: false }, kubernetes: { enabled: false } }, { stateDir });
  t.after(() => again.cleanup());
  assert.ok(!again.logs.some((l) => l.code === 'LW_STATE_DB_QUARANTINED'), 'a healthy state.db is opened as is');
  assert.equal(readdirSync(stateDir).filter((f) => /^state\.db\.corrupt-\d+$/.test(f)).length, 1);
  const m2 = await (await request(`${again.baseUrl}/metrics`)).body.text();
  assert.match(m2, /^linkward_state_db_quarantined_total 0$/m);
});
