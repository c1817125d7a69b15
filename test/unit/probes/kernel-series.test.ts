/** Download timing from kernel counters: in-sync points and the summed series, on a recorded lossy download. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DEFAULT_ESTIMATOR, estimate, type ByteSample } from '../../../probes/estimator.ts';
import { arrivedSeries, inSync, newTrack, observe, type KernelReading, type SyncTrack } from '../../../probes/kernel-series.ts';

const r = (tMs: number, bytesReceived: number, dataSegsIn: number, rcvOooPack = 0): KernelReading => ({
  tMs,
  bytesReceived,
  dataSegsIn,
  rcvOooPack,
  rcvMss: 1448,
});

test('inSync: new in-order data only; not while data arrives out of order, nor when a filled hole merges held data', () => {
  assert.equal(inSync(r(0, 14_480, 10), r(2, 17_376, 12)), true, 'two segments, in order');
  assert.equal(inSync(r(0, 14_480, 10), r(2, 14_480, 13, 3)), false, 'three segments out of order (a hole)');
  assert.equal(inSync(r(0, 14_480, 13, 3), r(2, 20_272, 14, 3)), false, 'the retransmission filled the hole: +4 segments of bytes from 1');
  assert.equal(inSync(r(0, 14_480, 10), r(2, 14_480, 10)), false, 'nothing arrived');
  assert.equal(inSync(r(0, 14_480, 10), r(2, 15_928, 11, 1)), false, 'in-order growth but an out-of-order packet too');
  assert.equal(inSync(r(0, 14_480, 10), r(50, 14_480, 10), true), true, 'since the last in-sync reading nothing arrived: still in sync');
  assert.equal(inSync(r(0, 14_480, 10), r(50, 14_480, 12, 2), true), false, 'since the last in-sync reading data arrived out of order');
});

test('an idle connection (its transfers done) stays in sync and does not hold the summed series back', () => {
  const busy = newTrack();
  const idle = newTrack();
  for (const [t, segs] of [
    [10, 10],
    [20, 20],
    [30, 30],
    [40, 40],
  ] as const)
    observe(busy, r(t, segs * 1448, segs));
  for (const t of [10, 20, 30, 40]) observe(idle, r(t, 14_480, 10));
  const s = arrivedSeries([busy, idle]);
  assert.equal(s.at(-1)?.tMs, 40);
  assert.equal(s.at(-1)?.bytes, 40 * 1448 + 14_480);
});

test('arrivedSeries is empty until every connection has an in-sync point, and ends at the earliest last one', () => {
  const a = newTrack();
  const b = newTrack();
  for (const x of [r(0, 0, 0), r(10, 14_480, 10), r(20, 28_960, 20), r(30, 43_440, 30)]) observe(a, x);
  observe(b, r(15, 0, 5, 5)); // only out of order so far
  assert.deepEqual(arrivedSeries([a, b]), []);
  observe(b, r(25, 14_480, 10, 5)); // the hole filled: merged, still not in sync
  assert.deepEqual(arrivedSeries([a, b]), []);
  observe(b, r(35, 15_928, 11, 5));
  const s = arrivedSeries([a, b]);
  assert.equal(s.at(-1)?.tMs, 30, 'valid up to the earlier connection');
  assert.equal(s.at(-1)?.bytes, 43_440 + (15_928 * 30) / 35);
});

interface Fixture {
  iperf3Mbps: number;
  steadyMbps: number;
  connections: number[][][];
}
const fx = JSON.parse(readFileSync(new URL('./fixtures/tcp-info/lab-50mbit-1.5loss-down.json', import.meta.url), 'utf8')) as Fixture;

/** Replays the recording up to `T` ms: the in-sync series and the plain in-order sum at the same readings. */
function replay(T: number): { arrived: ByteSample[]; inOrder: ByteSample[] } {
  const tracks: SyncTrack[] = fx.connections.map(() => newTrack());
  const events = fx.connections.flatMap((rows, i) => rows.filter((x) => (x[0] as number) <= T).map((x) => ({ i, x })));
  events.sort((p, q) => (p.x[0] as number) - (q.x[0] as number));
  const inOrder: ByteSample[] = [{ tMs: 0, bytes: 0 }];
  for (const { i, x } of events) {
    observe(tracks[i] as SyncTrack, r(x[0] as number, x[1] as number, x[2] as number, x[3] as number));
    inOrder.push({ tMs: x[0] as number, bytes: tracks.reduce((sum, t) => sum + (t.last?.bytesReceived ?? 0), 0) });
  }
  return { arrived: arrivedSeries(tracks), inOrder };
}

test('recorded 50 Mbit/s 1.5 % loss download: the in-sync series removes most of the reassembly lag of the first second', () => {
  const { arrived, inOrder } = replay(1_000);
  const err = (s: ByteSample[]): number => ((estimate(s, DEFAULT_ESTIMATOR)?.mbps ?? 0) / fx.iperf3Mbps - 1) * 100;
  const eArrived = err(arrived);
  const eInOrder = err(inOrder);
  assert.ok(eInOrder < -10, `in-order bytes read low over the first second (${eInOrder.toFixed(1)} %)`);
  assert.ok(Math.abs(eArrived) < Math.abs(eInOrder) / 2, `in-sync ${eArrived.toFixed(1)} % vs in-order ${eInOrder.toFixed(1)} %`);
});
