/** /v1/history from the real daemon started on a state database filled by a scripted run (through the real stores). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startDaemon } from '../../support/daemon.ts';
import { fillStateDb } from '../../support/history-fill.ts';

const TOKEN = 'history-test-token-0123456789';
/** Issue 13: the whole status page, charts included, stays under 60 KB. */
const PAGE_BUDGET_BYTES = 60 * 1024;

async function get(url: string, token?: string): Promise<{ status: number; text: string }> {
  const r = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(10_000) });
  return { status: r.status, text: await r.text() };
}

test('a day of a site that went down 40 min ago: /v1/history has bounded series, transitions, node actions and buffer depth; the page charts them within 60 KB', async (t) => {
  const stateDir = mkdtempSync(join(tmpdir(), 'lw-hist-'));
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  const db = new Database(join(stateDir, 'state.db'));
  db.pragma('journal_mode = WAL');
  const filled = fillStateDb(db, 'down', Date.now());
  db.close();

  const d = await startDaemon({ server: { token: TOKEN } }, { stateDir });
  t.after(() => d.cleanup());

  assert.equal((await get(`${d.baseUrl}/v1/history`)).status, 401, 'token-protected like /v1/status');
  const r = await get(`${d.baseUrl}/v1/history?since=24h`, TOKEN);
  assert.equal(r.status, 200);
  const doc = JSON.parse(r.text);
  assert.equal(doc.schemaVersion, 1);
  assert.equal(doc.untilMs - doc.sinceMs, 86_400_000);
  assert.equal(doc.bucketMs, 300_000);
  for (const name of ['wan', 'lte']) {
    const rtt = doc.uplinks[name].series.rttMs;
    assert.ok(rtt.length > 250 && rtt.length <= 288, `${name}: ${rtt.length} rtt buckets`);
    for (const b of rtt) assert.ok(b.min <= b.avg && b.avg <= b.max, JSON.stringify(b));
    assert.ok(doc.uplinks[name].series.downloadMbps.length >= 20, `${name}: hourly throughput`);
    assert.ok(doc.uplinks[name].series.lossPercent.at(-1).avg === 100, `${name}: 100 % loss at the end`);
  }
  const last40 = doc.uplinks.wan.series.rttMs.filter((b: { t: number }) => b.t > doc.untilMs - 35 * 60_000);
  assert.deepEqual(last40, [], 'no delay while down: a gap, not a line');
  assert.deepEqual(
    doc.transitions.map((x: { uplink: string | null; to: string }) => `${x.uplink ?? 'node'}→${x.to}`).sort(),
    filled.transitions.map((x) => `${x.uplink ?? 'node'}→${x.to}`).sort(),
  );
  assert.deepEqual(
    doc.nodeActions.map((a: { summary: string }) => a.summary),
    ['label linkward.io/link=down; condition unset → False/LinkDown', 'taint linkward.io/link-down:NoSchedule added'],
  );
  assert.ok(doc.buffer.length > 250 && doc.buffer.length <= 288, `${doc.buffer.length} buffer buckets`);
  const tail = doc.buffer.at(-1);
  assert.ok(tail.records >= 1_500 && tail.sinkFailing === true && tail.oldestAgeS >= 39 * 60, JSON.stringify(tail));

  const six = JSON.parse((await get(`${d.baseUrl}/v1/history?since=6h`, TOKEN)).text);
  assert.equal(six.bucketMs, 120_000);
  assert.ok(six.uplinks.wan.series.rttMs.length <= 180);
  const bad = await get(`${d.baseUrl}/v1/history?since=forever`, TOKEN);
  assert.equal(bad.status, 400);
  assert.equal(JSON.parse(bad.text).error.code, 'LW_HISTORY_BAD_SINCE');
  assert.equal(JSON.parse((await get(`${d.baseUrl}/v1/history?since=72h`, TOKEN)).text).error.code, 'LW_HISTORY_BAD_SINCE');

  const status = JSON.parse((await get(`${d.baseUrl}/v1/status`, TOKEN)).text);
  assert.equal(status.components.history.state, 'ok');
  const page = await get(`${d.baseUrl}/`, TOKEN);
  assert.equal(page.status, 200);
  const bytes = Buffer.byteLength(page.text);
  t.diagnostic(`served page with 24 h of history: ${bytes} bytes`);
  assert.ok(bytes <= PAGE_BUDGET_BYTES, `page ${bytes} bytes > ${PAGE_BUDGET_BYTES}`);
  assert.match(page.text, /<svg id="chart-wan-delay" class="chart"/);
  assert.match(page.text, /<svg id="chart-buffer-records"/);
  assert.match(page.text, /<tr data-kind="node"><td>\d\d:\d\d<\/td><td>Kubernetes node: taint linkward\.io\/link-down:NoSchedule added<\/td><\/tr>/);
  assert.equal(await d.stop(), 0);
});
