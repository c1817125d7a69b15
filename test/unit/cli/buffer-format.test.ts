/** `linkward buffer stats` text: backlog warnings, lost records and salvage are printed, one line each. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatStats } from '../../../agent/cli/buffer.ts';

test('stats text shows backlog warnings, losses and salvage', () => {
  const out = formatStats({
    available: true,
    usage: { records: 3, bytes: 30 },
    gate: { mode: 'drain', reason: 'ok' },
    lanes: [],
    deadLetters: 0,
    sinks: [
      { sink: 'prom', attempts: 1, backoffMs: 0, lastStatus: 503, lastError: 'HTTP 503', sentBatches: 0 },
      { sink: 'logs', attempts: 0, backoffMs: 0, lastStatus: 204, lastError: null, sentBatches: 5, ackPendingAttempts: 3, lastStepError: 'no space left' },
    ],
    backlogWarnings: [{ message: 'sink prom (normal): oldest record is 50 min old; its upstream refuses data older than 60 min' }],
    lostRecords: [{ reason: 'missing_at_open', records: 39, expected: 2000, present: 1961 }],
    salvaged: { file: '/var/lib/linkward/buffer.db.corrupt-1', copied: 1924, unreadable: 76 },
  });
  assert.match(out, /HTTP 503/);
  assert.match(out, /\nwarning: sink logs: sent batch not yet recorded \(3 tries\): no space left/);
  assert.match(out, /\nwarning: sink prom \(normal\): oldest record is 50 min old/);
  assert.match(out, /\nLOST: 39 acknowledged record\(s\) missing at start \(missing_at_open; expected 2000, found 1961\)/);
  assert.match(out, /\nsalvaged 1924 record\(s\) from \/var\/lib\/linkward\/buffer\.db\.corrupt-1 \(76 unreadable\)\n$/);
});
