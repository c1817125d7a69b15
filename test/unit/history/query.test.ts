/** The /v1/history document from stored rows (pure, fixed nowMs), node-action wording, and the page's telemetry honesty rules. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildHistory, SERIES } from '../../../agent/history/query.ts';
import { appliedFrom, describeChange } from '../../../agent/history/node-actions.ts';
import { adviseLink, adviseTelemetry, backlogFrom, TELEMETRY_LATE_S } from '../../../agent/http/status-advice.ts';

const NOW = Date.UTC(2026, 11, 3, 4, 0, 0);
const DAY = 86_400_000;
const row = (uplink: string, kind: string, atMs: number, s: Record<string, unknown>) => ({
  uplink,
  kind,
  atMs,
  sample: JSON.stringify({ uplink, kind, atMs, bytesUsed: 0, ...s }),
});

test('per uplink series from light and throughput rows; voided and broken samples left out and counted; events filtered to the window', () => {
  const probes = [
    row('wan', 'light', NOW - 10 * 60_000, { rttMs: 30, lossPercent: 0 }),
    row('wan', 'light', NOW - 9 * 60_000, { rttMs: 50, lossPercent: 10 }),
    row('wan', 'light', NOW - 8 * 60_000, { rttMs: 900, lossPercent: 100, void: 'scheduling_delay' }),
    row('wan', 'throughput', NOW - 30 * 60_000, { downloadMbps: 48, uploadMbps: 9, idleRttMs: 28, loadedRttMs: 180 }),
    { uplink: 'wan', kind: 'light', atMs: NOW - 60_000, sample: '{not json' },
    row('old', 'light', NOW - DAY - 1, { rttMs: 1 }),
  ];
  const doc = buildHistory(
    {
      probes,
      transitions: [
        { uplink: 'wan', from: 'healthy', to: 'down', atMs: NOW - 5 * 60_000, reasons: ['carrier=lost'] },
        { uplink: null, from: 'healthy', to: 'down', atMs: NOW - 2 * DAY, reasons: [] },
      ],
      failovers: [{ atMs: NOW - 4 * 60_000, from: 'wan', to: 'lte', reason: 'failover', result: 'confirmed' }],
      nodeActions: [{ atMs: NOW - 3 * 60_000, summary: 'cordoned', applied: '{}' }],
      buffer: [
        { atMs: NOW - 120_000, records: 5, bytes: 50, oldestAgeS: null, sinkFailing: false },
        { atMs: NOW - 60_000, records: 9, bytes: 90, oldestAgeS: 30, sinkFailing: true },
      ],
    },
    NOW,
    DAY,
    ['wan', 'lte'],
  );
  assert.equal(doc.schemaVersion, 1);
  assert.deepEqual([doc.sinceMs, doc.untilMs, doc.bucketMs], [NOW - DAY, NOW, 300_000]);
  assert.deepEqual(Object.keys(doc.uplinks).sort(), ['lte', 'old', 'wan'], 'configured uplinks appear even without data');
  const wan = doc.uplinks.wan!;
  assert.equal(wan.voidSamples, 1);
  assert.deepEqual(
    wan.series.rttMs.map((b) => [b.min, b.avg, b.max, b.n]),
    [[30, 40, 50, 2]],
    'the two good minutes share a 5-minute bucket; the voided 900 ms is not charted',
  );
  assert.deepEqual(
    wan.series.downloadMbps.map((b) => b.avg),
    [48],
  );
  assert.deepEqual(
    wan.series.loadedRttMs.map((b) => b.avg),
    [180],
  );
  assert.deepEqual(Object.keys(wan.series).sort(), [...SERIES].sort());
  assert.deepEqual(doc.uplinks.old!.series.rttMs, [], 'a sample older than the window is not charted');
  assert.deepEqual(doc.uplinks.lte!.series.rttMs, []);
  assert.deepEqual(
    doc.transitions.map((t) => t.to),
    ['down'],
    'the 2-day-old transition is outside the window',
  );
  assert.equal(doc.failovers.length, 1);
  assert.deepEqual(doc.nodeActions, [{ atMs: NOW - 3 * 60_000, summary: 'cordoned' }]);
  assert.deepEqual(
    doc.buffer.map((b) => [b.records, b.oldestAgeS, b.sinkFailing]),
    [[9, 30, true]],
    'one bucket: the peak, the oldest age and a failing sink survive',
  );
});

test('node actions: applied decorations from the node status, unknown stays null, changes in words', () => {
  assert.equal(appliedFrom(undefined), null);
  assert.equal(appliedFrom({ actual: null }), null);
  const a = appliedFrom({
    actual: {
      labels: { 'linkward.io/link': 'degraded' },
      taints: [{ key: 'linkward.io/link', value: 'degraded', effect: 'PreferNoSchedule' }],
      cordoned: false,
      condition: { status: 'False', reason: 'LinkDegraded' },
    },
  })!;
  assert.deepEqual(a.taints, ['linkward.io/link=degraded:PreferNoSchedule']);
  const b = { ...a, labels: { 'linkward.io/link': 'down' }, cordoned: true };
  assert.equal(describeChange(a, b), 'cordoned; label linkward.io/link: degraded → down');
  assert.equal(describeChange(a, a), '');
});

const healthy = adviseLink({ node: 'healthy', uplinks: {} }, 3_600);
const buffer = (records: number, oldest: number, attempts = 0, priority = 'normal', maxPriority = 2) => ({
  state: 'ok',
  details: { usage: { records, bytes: records * 10 }, gate: { maxPriority }, lanes: [{ priority, oldestAgeSeconds: oldest }], sinks: [{ attempts }] },
});

test('telemetry not leaving turns a healthy page amber with words that do not blame the connection; held-back data on a metered link does not', () => {
  assert.equal(adviseTelemetry(healthy, backlogFrom(buffer(3, 2)), String), healthy, 'a small fresh backlog: still "OK, nothing to do"');
  const stuck = adviseTelemetry(healthy, backlogFrom(buffer(1_200, TELEMETRY_LATE_S + 60, 4)), (s) => `${Math.round(s / 60)} min`);
  assert.equal(stuck.tone, 'warn');
  assert.equal(stuck.headline, 'Internet OK — data is not being sent');
  assert.match(
    stuck.meaning,
    /The connection works, but this device's data has not reached the server for 11 min \(1200 records waiting; the receiving server refuses or does not answer\)/,
  );
  assert.match(stuck.todo.join(' '), /Nothing to fix on site: the connection itself works\. If this lasts more than 2 hours, call support/);
  assert.doesNotMatch(stuck.todo.join(' '), /modem|cable|restart/i);
  const late = adviseTelemetry(healthy, backlogFrom(buffer(9_000, 3 * 3_600, 40)), () => '3 h');
  assert.match(late.todo.join(' '), /This has lasted 3 h: call support/);
  const growing = adviseTelemetry(healthy, backlogFrom(buffer(50, 120, 3), true), String);
  assert.equal(growing.tone, 'warn', 'a failing sink with a growing backlog is amber before the age threshold');
  assert.equal(adviseTelemetry(healthy, backlogFrom(buffer(50, 120, 3), false), String).tone, 'good', 'one failed attempt alone is not');
  assert.equal(
    adviseTelemetry(healthy, backlogFrom(buffer(500, 5 * 3_600, 0, 'low', 0)), String).tone,
    'good',
    'low priority held back by the metered gate is by design',
  );
  const down = adviseLink({ node: 'down', uplinks: {} }, 3_600);
  assert.equal(adviseTelemetry(down, backlogFrom(buffer(1_200, 3_600, 4)), String), down, 'the link verdict wins when the link itself is not healthy');
  assert.equal(backlogFrom({ state: 'disabled' }), null);
});

test('a broken part while the link is healthy still asks for support; while down it is listed as waiting, without "call support"', async () => {
  const { renderStatusPage } = await import('../../../agent/http/status-page.ts');
  const doc = (node: string) => ({
    version: '0.1.0',
    node: 'n1',
    nowMs: NOW,
    uptimeSeconds: 3_600,
    link: { atMs: NOW, node, active: 'wan', uplinks: {} },
    components: { daemon: { state: 'ok' }, buffer: { state: 'error', message: 'disk full' } },
  });
  const healthy = renderStatusPage(doc('healthy'), NOW);
  assert.match(healthy, /<section class="notice" id="agent-problem" role="alert"><strong>Part of linkward is not working\.<\/strong>.*call support/);
  const down = renderStatusPage(doc('down'), NOW);
  assert.match(
    down,
    /<section class="notice calm" id="agent-problem" role="note"><strong>Some parts of linkward are waiting for the connection too\.<\/strong>/,
  );
  assert.doesNotMatch(down, /Part of linkward is not working/);
  assert.doesNotMatch(down, /id="history"/, 'no history document: no charts section (and no crash)');
});
