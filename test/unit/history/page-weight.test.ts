/** Page weight of the status page with 24 h of history: ≤ 60 KB for every scenario and up to six uplinks (coarser charts beyond two). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { HistoryStore } from '../../../agent/history/store.ts';
import { buildHistory } from '../../../agent/history/query.ts';
import { pageResolution } from '../../../agent/history/page-section.ts';
import { renderStatusPage } from '../../../agent/http/status-page.ts';
import { fillStateDb, statusFor, type Scenario } from '../../support/history-fill.ts';

/** Issue 13: ≤ 60 KB, read as 60,000 bytes (the stricter reading). */
const PAGE_BUDGET_BYTES = 60_000;
const NOW = Date.UTC(2026, 11, 3, 3, 0, 0);
const DAY = 86_400_000;

function docFor(s: Scenario) {
  const db = new Database(':memory:');
  fillStateDb(db, s, NOW);
  const st = new HistoryStore(db);
  const doc = buildHistory({ probes: st.probeSamples(NOW - DAY, NOW), transitions: st.transitions(NOW - DAY, NOW), failovers: st.failovers(NOW - DAY, NOW), nodeActions: st.nodeActions(NOW - DAY, NOW), buffer: st.bufferSamples(NOW - DAY, NOW) }, NOW, DAY);
  db.close();
  return doc;
}

test('every scenario with two uplinks at full resolution stays within the budget', (t) => {
  for (const s of ['healthy', 'degraded', 'down', 'failover'] as Scenario[]) {
    const bytes = Buffer.byteLength(renderStatusPage(statusFor(s, NOW), NOW, docFor(s)));
    t.diagnostic(`${s}: ${bytes} bytes`);
    assert.ok(bytes <= PAGE_BUDGET_BYTES, `${s}: ${bytes} bytes`);
  }
  assert.deepEqual(pageResolution(2), { factor: 1, hoverSlots: 24 });
});

test('three to six uplinks: charts and hover get coarser, the page stays within the budget', (t) => {
  const doc = docFor('down');
  for (const n of [3, 4, 5, 6]) {
    const uplinks = { ...doc.uplinks };
    for (let i = 2; i < n; i++) uplinks[`extra${i}`] = doc.uplinks.wan!;
    const html = renderStatusPage(statusFor('down', NOW), NOW, { ...doc, uplinks });
    const bytes = Buffer.byteLength(html);
    t.diagnostic(`${n} uplinks: ${bytes} bytes`);
    assert.ok(bytes <= PAGE_BUDGET_BYTES, `${n} uplinks: ${bytes} bytes`);
    const points = Number(/id="chart-wan-delay"[^]*?data-series="delay" data-points="(\d+)"/.exec(html)?.[1]);
    assert.ok(points > 0 && points <= Math.ceil(288 / pageResolution(n).factor), `${n} uplinks: ${points} points`);
  }
});

test('names and texts from the state database are escaped in the charts, markers and events', () => {
  const doc = docFor('degraded');
  const evil = '<img src=x onerror=alert(1)>';
  const hostile = {
    ...doc,
    uplinks: { [evil]: doc.uplinks.wan! },
    transitions: [{ uplink: evil, from: 'healthy', to: 'down', atMs: NOW - 60_000, reasons: ['"><script>x</script>'] }],
    nodeActions: [{ atMs: NOW - 30_000, summary: 'label a=<b>' }],
  };
  const html = renderStatusPage(statusFor('degraded', NOW), NOW, hostile);
  assert.doesNotMatch(html, /<img|<script|<b>/);
  assert.match(html, /id="chart-&lt;img src=x onerror=alert\(1\)&gt;-delay"/);
  assert.match(html, /&quot;&gt;&lt;script&gt;x&lt;\/script&gt;/);
});
