/** Page weight of the status page with 24 h of history: ≤ 60 KB for every scenario and any number of uplinks (coarser charts as they grow). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { HistoryStore } from '../../../agent/history/store.ts';
import { buildHistory } from '../../../agent/history/query.ts';
import { PAGE_BUDGET_BYTES, RESOLUTIONS } from '../../../agent/history/page-section.ts';
import { renderStatusPage } from '../../../agent/http/status-page.ts';
import { fillStateDb, statusFor, type Scenario } from '../../support/history-fill.ts';

const NOW = Date.UTC(2026, 11, 3, 3, 0, 0);
const DAY = 86_400_000;

function docFor(s: Scenario) {
  const db = new Database(':memory:');
  fillStateDb(db, s, NOW);
  const st = new HistoryStore(db);
  const doc = buildHistory(
    {
      probes: st.probeSamples(NOW - DAY, NOW),
      transitions: st.transitions(NOW - DAY, NOW),
      failovers: st.failovers(NOW - DAY, NOW),
      nodeActions: st.nodeActions(NOW - DAY, NOW),
      buffer: st.bufferSamples(NOW - DAY, NOW),
    },
    NOW,
    DAY,
  );
  db.close();
  return doc;
}

test('every scenario with two uplinks at full resolution stays within the budget', (t) => {
  for (const s of ['healthy', 'degraded', 'down', 'failover'] as Scenario[]) {
    const bytes = Buffer.byteLength(renderStatusPage(statusFor(s, NOW), NOW, docFor(s)));
    t.diagnostic(`${s}: ${bytes} bytes`);
    assert.ok(bytes <= PAGE_BUDGET_BYTES, `${s}: ${bytes} bytes`);
  }
  assert.equal(PAGE_BUDGET_BYTES, 60_000, 'issue 13: 60 KB read as 60,000 bytes');
});

/** Uplinks `wan` and `lte` of the document plus copies of `wan` up to `n`. */
function withUplinks(doc: ReturnType<typeof docFor>, n: number): ReturnType<typeof docFor> {
  const uplinks = { ...doc.uplinks };
  for (let i = 2; i < n; i++) uplinks[`extra${i}`] = doc.uplinks.wan!;
  return { ...doc, uplinks };
}

test('three to sixteen uplinks: charts and hover get coarser, the page stays within the budget and keeps charts', (t) => {
  const doc = docFor('down');
  let lastPoints = Number.POSITIVE_INFINITY;
  for (const n of [3, 4, 5, 6, 8, 12, 16]) {
    const html = renderStatusPage(statusFor('down', NOW), NOW, withUplinks(doc, n));
    const bytes = Buffer.byteLength(html);
    const points = Number(/id="chart-wan-delay"[^]*?data-series="delay" data-points="(\d+)"/.exec(html)?.[1]);
    const hover = (/id="chart-wan-delay"[^]*?<\/svg>/.exec(html)?.[0].match(/<rect /g) ?? []).length;
    t.diagnostic(`${n} uplinks: ${bytes} bytes, ${points} delay points, ${hover} hover slots`);
    assert.ok(bytes <= PAGE_BUDGET_BYTES, `${n} uplinks: ${bytes} bytes`);
    assert.ok(points > 0 && points <= 288 / (RESOLUTIONS[1]?.factor ?? 1), `${n} uplinks: charted, coarser than full (${points} points)`);
    assert.ok(points <= lastPoints, `${n} uplinks: never finer than with fewer uplinks`);
    lastPoints = points;
    for (let i = 2; i < n; i++) assert.match(html, new RegExp(`id="chart-extra${i}-loss"`), `${n} uplinks: extra${i} has its charts`);
    // captions come from the full-resolution series: the last delay figure is dated to its 5-minute bucket
    assert.match(html, /delay [^<]*, last [\d.]+ at \d\d:\d\d/, `${n} uplinks: caption with range and last value`);
  }
});

test('8, 12 and 16 uplinks with a status card each (the cards share the budget): within 60 KB, charts kept up to 12', (t) => {
  const doc = docFor('down');
  for (const n of [8, 12, 16]) {
    const status = statusFor('down', NOW) as { link: { uplinks: Record<string, unknown> } };
    const cards: Record<string, unknown> = { ...status.link.uplinks };
    for (let i = 2; i < n; i++) cards[`extra${i}`] = { ...(cards.wan as object), name: `extra${i}` };
    const html = renderStatusPage({ ...status, link: { ...status.link, uplinks: cards } }, NOW, withUplinks(doc, n));
    const bytes = Buffer.byteLength(html);
    t.diagnostic(`${n} uplinks and cards: ${bytes} bytes, ${/charts left out/.test(html) ? 'no charts' : 'charts'}`);
    assert.ok(bytes <= PAGE_BUDGET_BYTES, `${n} uplinks with cards: ${bytes} bytes`);
    assert.equal((html.match(/<article class="uplink"/g) ?? []).length, n, `${n} uplink cards`);
    if (n <= 12) assert.match(html, new RegExp(`id="chart-extra${n - 1}-delay"`), `${n} uplinks with cards: still charted`);
  }
});

test('more uplinks than charts can fit: state strips and figures in words, still within the budget', () => {
  const html = renderStatusPage(statusFor('down', NOW), NOW, withUplinks(docFor('down'), 32));
  assert.ok(Buffer.byteLength(html) <= PAGE_BUDGET_BYTES, `${Buffer.byteLength(html)} bytes`);
  assert.doesNotMatch(html, /id="chart-extra31-/);
  assert.match(html, /id="strip-extra31"/);
  assert.match(html, /charts left out to keep this page light for 32 connections/);
  assert.match(html, /id="hist-extra31"[^]*?lost data [^<]*, last/);
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
