/** Unit tests of stall detection and the figure rule (lower bound, stall) on synthetic byte series. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimate, type ByteSample } from '../../../probes/estimator.ts';
import { findStalls, mergeIntervals, streamGaps, STALL_MIN_MS, type StreamActivity } from '../../../probes/stalls.ts';
import { judgeFigure, uploadActivity } from '../../../probes/throughput-result.ts';

/** 4 streams, each delivering `perMs` bytes/ms in 1448-byte packets from 0 to `endMs`, silent inside its `silent` interval. */
function streams(endMs: number, perMs: number, silent: (readonly [number, number] | undefined)[]): { acts: StreamActivity[]; total: ByteSample[] } {
  const events: { t: number; b: number }[] = [];
  const acts = silent.map((gap) => {
    const progress: number[] = [];
    for (let t = 1; t <= endMs; t += 1448 / perMs) {
      if (gap && t > gap[0] && t < gap[1]) continue;
      progress.push(t);
      events.push({ t, b: 1448 });
    }
    return { progress, busy: [[0, endMs]] as [number, number][] };
  });
  events.sort((a, b) => a.t - b.t);
  let sum = 0;
  const total: ByteSample[] = [{ tMs: 0, bytes: 0 }, ...events.map((e) => ({ tMs: e.t, bytes: (sum += e.b) }))];
  return { acts, total };
}

test('no stall on steady delivery', () => {
  const { acts, total } = streams(2000, 300, [undefined, undefined, undefined, undefined]);
  const r = findStalls(acts, total, 100, 2000);
  assert.equal(r.stalled, false);
  assert.deepEqual(r.intervals, []);
});

test('all streams silent for 400 ms (retransmission timeout on every stream): stalled, rate outside the stall reported', () => {
  const gap = [900, 1300] as const;
  const { acts, total } = streams(2000, 300, [gap, gap, gap, gap]);
  const r = findStalls(acts, total, 100, 2000);
  assert.equal(r.stalled, true);
  assert.ok(r.affectedMs >= 400, `affected ${r.affectedMs}`);
  // 4 × 300 B/ms = 9.6 Mbit/s while flowing
  assert.ok(Math.abs((r.mbpsOutside ?? 0) - 9.6) < 0.3, `outside ${r.mbpsOutside}`);
  const e = estimate(total.filter((s) => s.tMs >= 0));
  assert.ok(e && e.mbps < 9.0, `the slope includes the stall: ${e?.mbps}`);
  const f = judgeFigure(e, 'allowance', r);
  assert.deepEqual(f, { mbps: e?.mbps, lowerBound: true, stalled: true }, 'the measured figure, flagged: at best a lower bound');
});

test('one stream stalls while the others take its share: recognised, but it did not hold the figure down', () => {
  // the three others speed up to 400 B/ms each during the stall (the bottleneck stays full)
  const gap = [900, 1300] as const;
  const a = streams(2000, 300, [gap, undefined, undefined, undefined]);
  const extra = streams(2000, 100, [
    [0, 900],
    [0, 900],
    [0, 900],
  ]).acts.map((s) => s.progress.filter((t) => t < 1300));
  const events = [
    ...a.total.slice(1).map((s, i) => ({ t: s.tMs, b: s.bytes - (a.total[i] as ByteSample).bytes })),
    ...extra.flat().map((t) => ({ t, b: 1448 })),
  ].sort((x, y) => x.t - y.t);
  let sum = 0;
  const total = [{ tMs: 0, bytes: 0 }, ...events.map((e) => ({ tMs: e.t, bytes: (sum += e.b) }))];
  const r = findStalls(a.acts, total, 100, 2000);
  assert.equal(r.intervals.length, 1, 'the silent stream is seen');
  assert.equal(r.stalled, false, 'the link stayed full');
});

test('a reading delay (client starved of CPU) is not a stall: the data arrives in one burst right after', () => {
  const { acts, total } = streams(2000, 300, [
    [900, 1200],
    [900, 1200],
    [900, 1200],
    [900, 1200],
  ]);
  // the bytes of the silent interval arrive at 1201 ms at once (they were in the socket buffer)
  const held = 4 * 300 * 300;
  const shifted = total.map((s) => ({ tMs: s.tMs, bytes: s.bytes + (s.tMs >= 1201 ? held : 0) }));
  const r = findStalls(acts, shifted, 100, 2000);
  assert.equal(r.intervals.length, 1);
  assert.equal(r.stalled, false);
});

test('gaps: the wait for a first byte is not a stall; slow streams need longer silence', () => {
  const s: StreamActivity = { progress: [300, 310, 320, 900, 910], busy: [[0, 910]] };
  assert.deepEqual(streamGaps(s, 0, 1000), [[320, 900]]);
  const sparse: StreamActivity = { progress: [0, 100, 200, 300, 400, 700], busy: [[0, 700]] };
  assert.deepEqual(streamGaps(sparse, 0, 1000), [], `300 ms < 4 × 100 ms median gap (min ${STALL_MIN_MS})`);
  assert.deepEqual(
    mergeIntervals([
      [5, 9],
      [1, 3],
      [2, 4],
    ]),
    [
      [1, 4],
      [5, 9],
    ],
  );
});

test('upload activity from server ticks: progress where bytes grew, one busy interval per request', () => {
  const reqs = [
    [
      [
        { tMs: 10, bytes: 0 },
        { tMs: 30, bytes: 100 },
        { tMs: 50, bytes: 100 },
        { tMs: 70, bytes: 200 },
      ],
    ],
  ];
  assert.deepEqual(uploadActivity(reqs), [{ progress: [10, 30, 70], busy: [[10, 70]] }]);
});

test('figure rule: stable is exact; a capped unstable estimate is a lower bound; errors report nothing', () => {
  const base = { warmupMs: 0, measuredMs: 1000, measuredBytes: 1, relSe: 0.01 };
  assert.deepEqual(judgeFigure({ ...base, mbps: 10, recentMbps: 10, stable: true }, 'stable', undefined), { mbps: 10, lowerBound: false, stalled: false });
  assert.deepEqual(judgeFigure({ ...base, mbps: 10, recentMbps: 10.3, stable: false }, 'bytes', undefined), { mbps: 10, lowerBound: true, stalled: false });
  assert.deepEqual(
    judgeFigure({ ...base, mbps: 10, recentMbps: 14, stable: false }, 'allowance', undefined),
    { mbps: 10, lowerBound: true, stalled: false },
    'a noisy tail is not the figure',
  );
  assert.deepEqual(judgeFigure({ ...base, mbps: 10, recentMbps: 10, stable: false }, 'error', undefined), { lowerBound: false, stalled: false });
  assert.deepEqual(judgeFigure(undefined, 'time', undefined), { lowerBound: false, stalled: false });
});
