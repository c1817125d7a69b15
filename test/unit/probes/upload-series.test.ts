/** Unit tests of the upload estimate: delivered series of completed requests, not held back by a starving or stalled stream. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deliveredSeries, laggardFreeSeries, type ByteSample } from '../../../probes/estimator.ts';
import { lastCompletionMs, MAX_LAGGARD_SHARE, uploadEstimate, type UploadProgress } from '../../../probes/upload-series.ts';

const OPTS = { binMs: 100, minMeasureMs: 1000, stableTolerance: 0.05 };
/** 2 Mbit/s shared by the streams that deliver: 250 B/ms in total. */
const LINK_BPMS = 250;

/** Back-to-back requests of `size` bytes from `fromMs` until `untilMs`, each delivered linearly at `bpms`. */
function requests(size: number, bpms: number, fromMs: number, untilMs: number): ByteSample[][] {
  const out: ByteSample[][] = [];
  for (let t = fromMs; t + size / bpms <= untilMs; t += size / bpms)
    out.push([
      { tMs: t, bytes: 0 },
      { tMs: t + size / bpms, bytes: size },
    ]);
  return out;
}

function progress(completed: ByteSample[][][], inProgress: number[], nowMs: number): UploadProgress {
  // pulled bytes run ahead of delivery (socket buffers): a straight line 40 kB above it
  const pulled = [
    { tMs: 0, bytes: 40_000 },
    { tMs: nowMs, bytes: 40_000 + LINK_BPMS * nowMs },
  ];
  return { completed, finished: completed.map(() => false), inProgress, pulled };
}

test('laggardFreeSeries: a skipped stream neither limits the series nor needs a completion; its completed requests count', () => {
  const a = [
    [
      { tMs: 0, bytes: 0 },
      { tMs: 100, bytes: 1000 },
    ],
    [
      { tMs: 100, bytes: 0 },
      { tMs: 200, bytes: 1000 },
    ],
  ];
  const b = [
    [
      { tMs: 0, bytes: 0 },
      { tMs: 50, bytes: 500 },
    ],
  ];
  assert.deepEqual(deliveredSeries([a, b, []], 50), [], 'the exact series waits for every stream');
  const s = laggardFreeSeries([a, b, []], 50, [], [false, true, true]);
  assert.deepEqual(
    s.map((x) => x.tMs),
    [0, 50, 100, 150, 200],
  );
  assert.deepEqual(
    s.map((x) => x.bytes),
    [0, 1000, 1500, 2000, 2500],
    'b counted up to its completion, then flat',
  );
});

test("a stream starving from the start: the others' series is used once its request in progress is a small share", () => {
  // streams 0-2 share the whole link (16 kB requests at 83 B/ms each); stream 3 has delivered nothing it could prove
  const live = (now: number): ByteSample[][][] => [0, 1, 2].map(() => requests(16_384, LINK_BPMS / 3, 5, now)).concat([[]]);
  const early = uploadEstimate(progress(live(600), [16_384, 16_384, 16_384, 16_384], 600), OPTS);
  assert.equal(early.s.length, 2, 'too early: pulled bytes shown');
  assert.ok(early.bound && early.bound.mbps < 2.05, 'but a lower bound to judge the allowance by');
  const later = uploadEstimate(progress(live(2000), [16_384, 16_384, 16_384, 16_384], 2000), OPTS);
  assert.ok(later.e && later.e.stable === false, 'never stable without the exact series');
  assert.ok(Math.abs((later.e?.mbps ?? 0) / 2 - 1) < 0.03, `rate of the three ${later.e?.mbps}`);
  assert.ok(16_384 * 1 <= MAX_LAGGARD_SHARE * (later.e?.measuredBytes ?? 0));
  assert.equal(later.bound, later.e);
});

test('a stream stalled after a few completions holds the exact series back; the estimate moves on without it', () => {
  // 4 streams at 500 kbit/s each until 600 ms; then stream 2 stalls (a retransmission timeout) and the other 3 take its share
  const streams: ByteSample[][][] = [0, 1, 2, 3].map(() => requests(16_384, LINK_BPMS / 4, 0, 600));
  for (const i of [0, 1, 3]) (streams[i] as ByteSample[][]).push(...requests(16_384, LINK_BPMS / 3, 524, 2400));
  const exact = deliveredSeries(streams, 20);
  assert.ok((exact.at(-1) as ByteSample).tMs < 600, 'exact series stuck at the stalled stream');
  const r = uploadEstimate(progress(streams, [0, 0, 16_384, 0], 2400), OPTS);
  assert.ok(r.e && r.e.measuredMs > 1500, `window ${r.e?.measuredMs}`);
  assert.ok(Math.abs((r.e?.mbps ?? 0) / 2 - 1) < 0.03, `rate ${r.e?.mbps}`);
});

test('a laggard with too much in progress is not left out: the figure would be off by more than its share', () => {
  const streams: ByteSample[][][] = [0, 1, 2, 3].map(() => requests(16_384, LINK_BPMS / 4, 0, 600));
  for (const i of [0, 1, 3]) (streams[i] as ByteSample[][]).push(...requests(16_384, LINK_BPMS / 3, 524, 1400));
  const r = uploadEstimate(progress(streams, [0, 0, 400_000, 0], 1400), OPTS);
  assert.ok(r.e && r.e.measuredMs < 600, 'only the exact (short) series');
});

test('healthy streams: the exact series, which may be stable', () => {
  const streams: ByteSample[][][] = [0, 1, 2, 3].map(() => requests(16_384, LINK_BPMS / 4, 0, 2000));
  const r = uploadEstimate({ ...progress(streams, [0, 0, 0, 0], 2000), finished: [true, true, true, true] }, OPTS);
  assert.equal(r.e?.stable, true);
  assert.ok(Math.abs((r.e?.mbps ?? 0) / 2 - 1) < 0.01);
});

test('stopped with a drain: the figure ends at the last completion before the stop, not at the stalled stream that finished last', () => {
  // 4 streams share the link until 1500 ms; then three finish, and the fourth, stalled, completes its last request at 2300 ms
  const streams: ByteSample[][][] = [0, 1, 2, 3].map(() => requests(16_384, LINK_BPMS / 4, 0, 1500));
  const stopAt = lastCompletionMs(streams);
  (streams[3] as ByteSample[][]).push([
    { tMs: stopAt, bytes: 0 },
    { tMs: stopAt + 100, bytes: 1000 },
    { tMs: 2300, bytes: 16_384 },
  ]);
  const p = { ...progress(streams, [0, 0, 0, 0], 2300), finished: [true, true, true, true] };
  const drained = uploadEstimate(p, OPTS).e?.mbps ?? 0;
  const cut = uploadEstimate({ ...p, untilMs: stopAt }, OPTS).e?.mbps ?? 0;
  assert.ok(drained < 1.8, `the drain tail pulls the figure down (${drained})`);
  assert.ok(Math.abs(cut / 2 - 1) < 0.02, `cut at the stop: ${cut}`);
});
