/** Downsampling of history series: bounded buckets, min/avg/max, gaps kept, window edges, durations. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bucketWidthMs, downsample, MAX_BUCKETS, parseSince, seriesMax } from '../../../agent/history/downsample.ts';

const NOW = Date.UTC(2026, 11, 3, 4, 0, 0);
const DAY = 86_400_000;

test('a day of one-minute samples becomes at most 288 five-minute buckets with min/avg/max', () => {
  const points = Array.from({ length: 1440 }, (_, i) => ({ atMs: NOW - DAY + (i + 1) * 60_000, value: i % 5 }));
  const width = bucketWidthMs(NOW - DAY, NOW);
  assert.equal(width, 300_000);
  const b = downsample(points, NOW - DAY, NOW, width);
  assert.ok(b.length <= MAX_BUCKETS, `${b.length} buckets`);
  assert.ok(b.length >= MAX_BUCKETS - 1);
  const first = b[0]!;
  assert.equal(first.t, NOW - DAY);
  assert.deepEqual([first.min, first.max, first.n], [0, 3, 4], 'minutes 1–4 of the first 5-minute bucket');
  assert.equal(first.avg, 1.5);
  assert.equal(seriesMax(b), 4);
});

test('an outage stays a gap: empty buckets are not emitted, non-finite values and points outside the window are ignored', () => {
  const since = NOW - 3_600_000;
  const points = [
    { atMs: since - 1, value: 999 },
    { atMs: since + 60_000, value: 10 },
    { atMs: since + 120_000, value: Number.NaN },
    { atMs: since + 50 * 60_000, value: 30 },
    { atMs: NOW + 1, value: 999 },
  ];
  const b = downsample(points, since, NOW, 300_000);
  assert.deepEqual(
    b.map((x) => [x.t - since, x.avg, x.n]),
    [
      [0, 10, 1],
      [50 * 60_000, 30, 1],
    ],
  );
});

test('bucket width: whole minutes, never under a minute, shorter windows give finer buckets', () => {
  assert.equal(bucketWidthMs(NOW - 6 * 3_600_000, NOW), 120_000, '6 h / 288 = 75 s, rounded up to 2 min');
  assert.equal(bucketWidthMs(NOW - 600_000, NOW), 60_000);
  assert.equal(bucketWidthMs(NOW - 2 * DAY, NOW), 600_000);
});

test('since durations parse; anything else is null', () => {
  assert.equal(parseSince('24h'), DAY);
  assert.equal(parseSince('6h'), 6 * 3_600_000);
  assert.equal(parseSince('90m'), 90 * 60_000);
  assert.equal(parseSince('2d'), 2 * DAY);
  for (const bad of ['', 'h', '-1h', '1y', '12', 'abc']) assert.equal(parseSince(bad), null, bad);
});
