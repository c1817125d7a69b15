/** Unit tests of the idle/loaded RTT session: scheduling, losses, the byte reserve, RPM (fake prober, manual clock). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../agent/base/clock.ts';
import { IDLE_SAMPLES, LOADED_INTERVAL_MS, LatencySession, latencyFigures, latencyReserveBytes } from '../../../probes/loaded-latency.ts';
import type { RttProber } from '../../../probes/rtt-probers.ts';
import { ByteLedger } from '../../../probes/probe-bytes.ts';

/** The fake prober's timeout: a lost ping resolves null this long after it was sent. */
const TIMEOUT_MS = 300;

/** A prober answering with the RTTs given in turn (null = lost), after that many ms of the manual clock. */
function fakeProber(clock: ManualClock, rtts: (number | null)[], kind: 'udp' | 'http' = 'udp'): RttProber & { sent: number } {
  let used = 0;
  const p = {
    kind,
    overlapping: kind === 'udp',
    pingBytes: 100,
    sent: 0,
    ping(): Promise<number | null> {
      const rtt = rtts[p.sent++] ?? null;
      used += 100;
      return new Promise((resolve) => clock.setTimer(rtt ?? TIMEOUT_MS, () => resolve(rtt)));
    },
    bytes: () => used,
    close: async () => undefined,
  };
  return p;
}

/** Lets promise callbacks run between clock steps. */
const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

async function advance(clock: ManualClock, ms: number, step = 5): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    await flush();
  }
}

test('idle pings before the load, loaded pings every LOADED_INTERVAL_MS during it; a late answer is a loss', async () => {
  const clock = new ManualClock();
  // idle 10, 12, 11; loaded 80, 90, lost, 100, 85
  const prober = fakeProber(clock, [10, 12, 11, 80, 90, null, 100, 85]);
  const s = new LatencySession(prober, clock, 10_000);
  const idle = s.idle();
  await advance(clock, 200);
  await idle;
  assert.equal(prober.sent, IDLE_SAMPLES);
  s.start();
  await advance(clock, 4 * LOADED_INTERVAL_MS + 150);
  assert.equal(s.loadedMs(), 87.5, 'median of 80, 90, 85, 100 so far');
  const stopping = s.stop();
  await advance(clock, 2_500);
  const f = await stopping;
  assert.equal(f.idleMs, 11);
  assert.equal(f.loadedMs, 87.5);
  assert.equal(f.loadedSamples, 4);
  assert.equal(f.loadedLost, 1);
  assert.ok(Math.abs((f.rpm ?? 0) - 60_000 / 87.5) < 1e-9);
});

test('pings stop at the byte reserve; HTTP pings do not overlap and the first (connection setup) is not counted', async () => {
  const clock = new ManualClock();
  const prober = fakeProber(clock, [50, 5, 5, 5, 500, 500, 500], 'http');
  const s = new LatencySession(prober, clock, 600);
  const idle = s.idle();
  await advance(clock, 200);
  await idle;
  assert.equal(prober.sent, 4, 'warm-up + 3 idle');
  s.start();
  await advance(clock, 5 * LOADED_INTERVAL_MS);
  assert.equal(prober.sent, 6, 'one loaded ping in flight at a time, then the reserve (600 B) is spent');
  const stopping = s.stop();
  await advance(clock, 1_500);
  const f = await stopping;
  assert.equal(f.idleMs, 5);
  assert.ok(prober.bytes() <= 600);
});

test('no answer to the first idle ping: the load does not wait for more', async () => {
  const clock = new ManualClock();
  const prober = fakeProber(clock, [null, 5, 5]);
  const s = new LatencySession(prober, clock, 10_000);
  const idle = s.idle();
  await advance(clock, 400);
  await idle;
  assert.equal(prober.sent, 1);
  assert.deepEqual(latencyFigures([], [], 0), { loadedSamples: 0, loadedLost: 0 });
});

test('the reserve covers every ping a direction can send, and the ledger sets it aside', () => {
  const udp = latencyReserveBytes({ kind: 'udp', pingBytes: 150 }, 3_000);
  assert.equal(udp, (IDLE_SAMPLES + 1 + 15 + 1) * 150);
  const ledger = new ByteLedger(10_000, 4);
  assert.equal(ledger.setAside(udp), true);
  assert.equal(ledger.committedBytes, 4 * 500 + udp);
  assert.equal(ledger.setAside(10_000), false, 'does not fit: nothing reserved');
  assert.equal(ledger.committedBytes, 4 * 500 + udp);
});
