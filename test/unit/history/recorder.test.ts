/** The history recorder with a manual clock: buffer depth once a minute, node actions on change only, unknown never recorded as empty, pruning. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { ManualClock } from '../../../agent/base/clock.ts';
import type { ComponentStatus } from '../../../agent/runtime/component.ts';
import { createLogger } from '../../../agent/base/log.ts';
import { bufferSampleFrom, HistoryRecorder, BUFFER_SAMPLE_EVERY_MS, NODE_CHECK_EVERY_MS } from '../../../agent/history/recorder.ts';
import { HistoryStore, HISTORY_RETENTION_MS } from '../../../agent/history/store.ts';

const T0 = Date.UTC(2026, 11, 3, 4, 0, 0);

function bufferStatus(records: number, oldest: number | null, attempts = 0): ComponentStatus {
  return {
    state: 'ok',
    details: {
      usage: { records, bytes: records * 100 },
      lanes: [{ sink: 'vm', priority: 'normal', records, oldestAgeSeconds: oldest }],
      sinks: [{ sink: 'vm', attempts }],
    },
  };
}

function nodeStatus(actual: Record<string, unknown> | null): ComponentStatus {
  return { state: 'ok', details: { actual } };
}

const bare = { labels: {}, taints: [], cordoned: false, condition: null };
const tainted = {
  labels: { 'linkward.io/link': 'down' },
  taints: [{ key: 'linkward.io/link-down', effect: 'NoSchedule' }],
  cordoned: true,
  condition: { status: 'False', reason: 'LinkDown' },
};

test('buffer depth is sampled once a minute from the buffer status; node decorations only when they change', () => {
  const db = new Database(':memory:');
  const store = new HistoryStore(db);
  const clock = new ManualClock(T0);
  let comps: Record<string, ComponentStatus> = { buffer: bufferStatus(5, 3), node: nodeStatus(bare) };
  const rec = new HistoryRecorder({ store, clock, log: createLogger({ level: 'silent', format: 'json' }), components: () => comps });
  rec.start();
  clock.advance(10 * 60_000);
  const rows = store.bufferSamples(T0, clock.nowMs());
  assert.equal(rows.length, 11, 'at start, then every minute for 10 minutes');
  assert.ok(rows.every((r, i) => i === 0 || r.atMs - rows[i - 1]!.atMs >= BUFFER_SAMPLE_EVERY_MS));
  assert.deepEqual(rows[0], { atMs: T0, records: 5, bytes: 500, oldestAgeS: 3, sinkFailing: false });
  assert.deepEqual(store.nodeActions(T0, clock.nowMs()), [], 'a bare node on first sight is not an action');

  comps = { buffer: bufferStatus(80, 120, 3), node: nodeStatus(tainted) };
  clock.advance(NODE_CHECK_EVERY_MS);
  const actions = store.nodeActions(T0, clock.nowMs());
  assert.equal(actions.length, 1);
  assert.equal(actions[0]!.atMs, T0 + 10 * 60_000 + NODE_CHECK_EVERY_MS);
  assert.match(
    actions[0]!.summary,
    /cordoned; taint linkward\.io\/link-down:NoSchedule added; label linkward\.io\/link=down; condition unset → False\/LinkDown/,
  );

  clock.advance(5 * NODE_CHECK_EVERY_MS);
  assert.equal(store.nodeActions(T0, clock.nowMs()).length, 1, 'unchanged decorations add nothing');
  comps = { buffer: bufferStatus(80, 120, 3), node: nodeStatus(null) };
  clock.advance(5 * NODE_CHECK_EVERY_MS);
  assert.equal(store.nodeActions(T0, clock.nowMs()).length, 1, 'unknown (no read yet) is not "nothing applied"');
  comps = { buffer: { state: 'starting' }, node: nodeStatus(bare) };
  const before = store.bufferSamples(T0, clock.nowMs()).length;
  clock.advance(2 * BUFFER_SAMPLE_EVERY_MS);
  const after = store.nodeActions(T0, clock.nowMs());
  assert.equal(after.length, 2);
  assert.match(
    after[1]!.summary,
    /^uncordoned; taint linkward\.io\/link-down:NoSchedule removed; label linkward\.io\/link removed; condition False\/LinkDown → unset$/,
  );
  assert.equal(store.bufferSamples(T0, clock.nowMs()).length, before, 'a buffer without figures records no row');
  const last = store.bufferSamples(T0, clock.nowMs()).at(-1)!;
  assert.equal(last.sinkFailing, true);
  rec.stop();
});

test('a restart does not repeat the last node action; rows older than the retention are pruned, the newest action kept', () => {
  const db = new Database(':memory:');
  const store = new HistoryStore(db);
  const log = createLogger({ level: 'silent', format: 'json' });
  const clock = new ManualClock(T0);
  const comps = { buffer: bufferStatus(1, 1), node: nodeStatus(tainted) };
  new HistoryRecorder({ store, clock, log, components: () => comps }).tick(T0);
  const second = new HistoryRecorder({ store: new HistoryStore(db), clock, log, components: () => comps });
  second.tick(T0 + 1_000);
  assert.equal(store.nodeActions(0, T0 + 10_000).length, 1);
  const later = T0 + HISTORY_RETENTION_MS + 3_600_000;
  second.tick(later);
  assert.deepEqual(
    store.bufferSamples(0, later).map((r) => r.atMs),
    [later],
    'old buffer rows pruned',
  );
  assert.equal(store.nodeActions(0, later).length, 1, 'the newest action is the reference for the next change: kept');
});

test('bufferSampleFrom: oldest across lanes, failing sinks, null without figures', () => {
  const s = bufferSampleFrom(
    {
      state: 'ok',
      details: {
        usage: { records: 7, bytes: 70 },
        lanes: [{ oldestAgeSeconds: 5 }, { oldestAgeSeconds: 50 }, { oldestAgeSeconds: null }],
        sinks: [{ attempts: 0 }, { attempts: 2 }],
      },
    },
    T0,
  );
  assert.deepEqual(s, { atMs: T0, records: 7, bytes: 70, oldestAgeS: 50, sinkFailing: true });
  assert.equal(bufferSampleFrom(undefined, T0), null);
  assert.equal(bufferSampleFrom({ state: 'error', message: 'disk' }, T0), null);
});

test('a failing store is logged once per streak, never thrown', () => {
  const db = new Database(':memory:');
  const store = new HistoryStore(db);
  const lines: string[] = [];
  const log = { warn: (_o: unknown, m: string) => lines.push(m), info: () => {} } as unknown as ReturnType<typeof createLogger>;
  const rec = new HistoryRecorder({ store, clock: new ManualClock(T0), log, components: () => ({ buffer: bufferStatus(1, 1) }) });
  db.exec('DROP TABLE history_buffer');
  rec.tick(T0);
  rec.tick(T0 + BUFFER_SAMPLE_EVERY_MS);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /history: recording failed/);
});
