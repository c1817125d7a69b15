/** Probe byte usage per UTC day: bytes booked on a later day (a clock that was ahead) count once, against today. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { ProbeStore } from '../../../probes/store.ts';

const H = 3_600_000;
const REAL = Date.UTC(2026, 11, 5, 20); // 20:00 UTC, 5 Dec

test('usage counted per uplink and UTC day, by kind', () => {
  const store = new ProbeStore(new Database(':memory:'));
  store.addUsage('lte', 'throughput', 3_000_000, REAL);
  store.addUsage('lte', 'light', 1_000, REAL + H);
  store.addUsage('wan', 'light', 500, REAL);
  assert.equal(store.usedToday('lte', REAL), 3_001_000);
  assert.deepEqual(store.usedTodayByKind('lte', REAL), { throughput: 3_000_000, light: 1_000 });
  store.addUsage('lte', 'light', 2_000, REAL + 5 * H); // 01:00 on 6 Dec: a new day, a new budget
  assert.equal(store.usedToday('lte', REAL + 5 * H), 2_000);
  assert.equal(store.usedToday('wan', REAL + 5 * H), 0);
});

test('bytes booked while the clock was 6 h ahead (on the next day) count today, and the real next day starts at zero', () => {
  const store = new ProbeStore(new Database(':memory:'));
  // box clock +6 h: 02:00 on 6 Dec; the metered uplink spends 9 MB
  store.addUsage('lte', 'throughput', 9_000_000, REAL + 6 * H);
  // NTP corrects the clock: 20:15 on 5 Dec, before any new write
  assert.equal(store.usedToday('lte', REAL + 15 * 60_000), 9_000_000, 'today sees the bytes spent today');
  assert.deepEqual(store.usedTodayByKind('lte', REAL + 15 * 60_000), { throughput: 9_000_000 });
  // the next light round's write folds them onto today's key
  store.addUsage('lte', 'light', 1_000, REAL + 16 * 60_000);
  assert.equal(store.usedToday('lte', REAL + 16 * 60_000), 9_001_000);
  // the real 6 Dec: the bytes were spent on 5 Dec, so its budget is whole
  assert.equal(store.usedToday('lte', REAL + 4.5 * H), 0);
});

test('a stepped-back clock while running: the sample store path (record) folds the same way', () => {
  const store = new ProbeStore(new Database(':memory:'));
  const sample = (atMs: number, bytesUsed: number) =>
    ({ uplink: 'lte', kind: 'throughput', atMs, bytesUsed, reachable: true, targetsUp: 1, targetsTotal: 1 }) as Parameters<ProbeStore['record']>[0];
  store.record(sample(REAL + 30 * H, 4_000_000)); // two days ahead
  store.record(sample(REAL, 1_000_000));
  assert.equal(store.usedToday('lte', REAL), 5_000_000);
  assert.equal(store.usedToday('lte', REAL + 30 * H), 0);
});
