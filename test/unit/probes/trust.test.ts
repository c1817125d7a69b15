/** The agent judges its own measurements: stalls, clock steps and warm-up; late answers; target health; re-tests and confirmations. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Clock } from '../../../agent/base/clock.ts';
import type { UplinkView } from '../../../agent/core/types.ts';
import { defaultLinkHealthConfig } from '../../../agent/config/link.ts';
import {
  DISTURBED_LAG_MS,
  DisturbanceWatch,
  SENTINEL_MS,
  WARMUP_MS,
  maxLagWithin,
  overlapsLoadingTest,
  SPEEDTEST_IDLE_MS,
} from '../../../probes/disturbance.ts';
import { windowEntry } from '../../../probes/light-round.ts';
import { SILENT_ROUNDS, targetNotes, updateTargets } from '../../../probes/target-health.ts';
import { confirmedFigure, heldByThroughputOnly, needsConfirmation, recheckDue, suspectFigure } from '../../../probes/throughput-policy.ts';
import type { ThroughputResult } from '../../../probes/throughput.ts';
import { throughputSample } from '../../../probes/judged-figure.ts';
import { measure, runJudged } from '../../../probes/uplink-throughput.ts';
import { buildNotes } from '../../../probes/notes.ts';
import { throughputResult } from '../../support/throughput-results.ts';

const policy = defaultLinkHealthConfig();

/** A clock whose time can jump without firing timers (a stalled event loop), then fire what is due. */
class StallClock implements Clock {
  mono = 0;
  wall = 1_700_000_000_000;
  timers: { at: number; fn: () => void }[] = [];
  nowMs(): number {
    return this.wall;
  }
  monoMs(): number {
    return this.mono;
  }
  sleep(): Promise<void> {
    return Promise.resolve();
  }
  setTimer(ms: number, fn: () => void): () => void {
    const t = { at: this.mono + ms, fn };
    this.timers.push(t);
    return () => {
      this.timers = this.timers.filter((x) => x !== t);
    };
  }
  /** Time passes; timers fire on time (`stall` false) or only at the end (`stall` true). */
  pass(ms: number, stall = false): void {
    const end = this.mono + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      if (!stall) {
        this.wall += next.at - this.mono;
        this.mono = next.at;
      } else {
        this.wall += end - this.mono;
        this.mono = end;
      }
      next.fn();
    }
    this.wall += end - this.mono;
    this.mono = end;
  }
}

test('disturbance: a quiet loop vouches for a measurement; a stall inside the window voids it as starved', () => {
  const c = new StallClock();
  const watch = new DisturbanceWatch(c);
  c.pass(WARMUP_MS + 1_000);
  const w1 = watch.begin();
  c.pass(300);
  assert.equal(watch.end(w1), null);
  const w2 = watch.begin();
  c.pass(50);
  c.pass(400, true); // the loop could not run for 400 ms
  c.pass(50);
  const d = watch.end(w2);
  assert.equal(d?.reason, 'starved');
  assert.ok((d?.maxLagMs ?? 0) >= 390, `lag ${d?.maxLagMs}`);
  assert.equal(c.timers.length, 0, 'the sentinel stops when no window is open');
});

test('disturbance: a stall still in progress at the end counts; small lateness does not', () => {
  const c = new StallClock();
  const watch = new DisturbanceWatch(c);
  c.pass(WARMUP_MS + 1);
  const w = watch.begin();
  c.mono += DISTURBED_LAG_MS + SENTINEL_MS + 5; // overdue right now, the sentinel has not run yet
  assert.equal(watch.end(w)?.reason, 'starved');
  const w2 = watch.begin();
  c.mono += SENTINEL_MS + DISTURBED_LAG_MS - 5;
  assert.equal(watch.end(w2), null);
});

test('disturbance: a wall-clock step voids as clock_step; start-up voids throughput tests only when asked', () => {
  const c = new StallClock();
  const watch = new DisturbanceWatch(c);
  const early = watch.begin();
  c.pass(100);
  assert.equal(watch.end(early), null, 'light rounds are judged by stalls only, also at start');
  const early2 = watch.begin();
  c.pass(100);
  assert.equal(watch.end(early2, 100, true)?.reason, 'warmup');
  c.pass(WARMUP_MS);
  const w = watch.begin();
  c.wall += 3_600_000;
  c.pass(100);
  assert.equal(watch.end(w)?.reason, 'clock_step');
});

test('maxLagWithin considers only stalls overlapping the window', () => {
  const stalls = [
    { fromMono: 0, toMono: 100, lagMs: 100 },
    { fromMono: 500, toMono: 900, lagMs: 400 },
  ];
  assert.equal(maxLagWithin(stalls, 150, 450), 0);
  assert.equal(maxLagWithin(stalls, 50, 450), 100);
  assert.equal(maxLagWithin(stalls, 50, 600), 400);
});

test('window entries: undisturbed, a late answer or a SYN retransmission is a loss; starved, any answer is untimed, silence is lost', () => {
  assert.deepEqual(windowEntry('t', { rttMs: 12, answered: true, bytes: 0 }, false), { target: 't', rttMs: 12 });
  assert.deepEqual(windowEntry('t', { rttMs: null, answered: true, slow: 'late', bytes: 0 }, false), { target: 't', rttMs: null });
  assert.deepEqual(windowEntry('t', { rttMs: null, answered: true, slow: 'syn_retransmit', bytes: 0 }, false), { target: 't', rttMs: null });
  assert.deepEqual(windowEntry('t', { rttMs: null, answered: true, slow: 'late', bytes: 0 }, true), { target: 't', rttMs: null, untimed: true });
  assert.deepEqual(windowEntry('t', { rttMs: 900, answered: true, bytes: 0 }, true), { target: 't', rttMs: null, untimed: true });
  assert.deepEqual(windowEntry('t', { rttMs: null, answered: false, bytes: 0 }, true), { target: 't', rttMs: null });
});

test('target health: refusals and silence while others answer are target problems, with notes', () => {
  let book = updateTargets(
    {},
    [
      { id: 'a', up: true, refused: true },
      { id: 'b', up: true, refused: false },
    ],
    1_000,
  );
  assert.equal(book.a?.condition, 'refused');
  for (let i = 0; i < SILENT_ROUNDS; i++)
    book = updateTargets(
      book,
      [
        { id: 'b', up: true, refused: false },
        { id: 'c', up: false, refused: false },
      ],
      2_000 + i,
    );
  assert.equal(book.c?.condition, 'silent');
  const all = updateTargets(
    {},
    [
      { id: 'x', up: false, refused: false },
      { id: 'y', up: false, refused: false },
    ],
    1,
  );
  const allSilent = updateTargets(
    updateTargets(
      all,
      [
        { id: 'x', up: false, refused: false },
        { id: 'y', up: false, refused: false },
      ],
      2,
    ),
    [
      { id: 'x', up: false, refused: false },
      { id: 'y', up: false, refused: false },
    ],
    3,
  );
  assert.equal(allSilent.x?.condition, 'ok', 'all silent is the link, not the targets');
  const notes = targetNotes(book);
  assert.deepEqual(notes.map((n) => n.code).sort(), ['target_refused', 'target_silent']);
  assert.match(notes.find((n) => n.code === 'target_refused')?.message ?? '', /refuses connections/);
});

function view(health: UplinkView['health'], heldBy: string[]): UplinkView {
  return { name: 'wan', health, sinceMs: 0, reasons: [], latest: { atMs: 0 }, heldBy };
}

test('re-tests: due promptly after light recovery when only throughput holds the link; otherwise before the figure expires', () => {
  const base = { nowMs: 1_000_000, minGapMs: 30_000, policy };
  assert.equal(heldByThroughputOnly(view('down', ['downloadMbps'])), true);
  assert.equal(heldByThroughputOnly(view('down', ['downloadMbps', 'reachable'])), false);
  assert.equal(heldByThroughputOnly(view('healthy', [])), false);
  assert.equal(recheckDue({ ...base, view: view('down', ['downloadMbps']), lastThroughputMs: 1_000_000 - 31_000, lightWasBad: true }), true);
  assert.equal(recheckDue({ ...base, view: view('down', ['downloadMbps']), lastThroughputMs: 1_000_000 - 20_000, lightWasBad: true }), false);
  assert.equal(recheckDue({ ...base, view: view('degraded', ['downloadMbps']), lastThroughputMs: 1_000_000 - 300_000, lightWasBad: false }), false);
  assert.equal(
    recheckDue({ ...base, view: view('degraded', ['downloadMbps']), lastThroughputMs: 1_000_000 - 451_000, lightWasBad: false }),
    true,
    '3/4 of the 600 s max-age',
  );
  assert.equal(recheckDue({ ...base, view: view('down', ['reachable']), lastThroughputMs: 0, lightWasBad: true }), false);
});

test('confirmation: bad news for a level the link is not in needs a second test; the better figure counts', () => {
  assert.equal(needsConfirmation('down', 0.6, view('healthy', []), policy), true);
  assert.equal(needsConfirmation('down', 50, view('healthy', []), policy), false);
  assert.equal(needsConfirmation('down', 0.6, view('degraded', ['downloadMbps']), policy), false, 'already held there');
  assert.equal(needsConfirmation('up', 0.5, view('degraded', ['downloadMbps']), policy), true);
  assert.equal(confirmedFigure(0.6, 240), 240);
  assert.equal(confirmedFigure(0.6, 0.7), 0.7);
  assert.equal(suspectFigure({ starved: false, stalled: false, cpuMs: 950, wallMs: 1_000 }), 'cpu_bound');
  assert.equal(suspectFigure({ starved: false, stalled: true, cpuMs: 0, wallMs: 1_000 }), 'stalled');
  assert.equal(suspectFigure({ starved: false, stalled: false, cpuMs: 200, wallMs: 1_000 }), null);
});

const result = throughputResult;

test('measure: one low reading is confirmed by a second test; the better of the two is the figure', async () => {
  const readings = [0.6, 180];
  const runs: number[] = [];
  const deps = {
    watch: undefined,
    allowance: () => 5_000_000,
    cpuMs: () => 0,
    monoMs: () => 0,
    run: async (_d: 'down' | 'up', max: number) => (runs.push(max), result(readings.shift())),
  };
  const judged = await measure(deps, ['down'], 4_000_000, view('healthy', []), policy);
  assert.equal(runs.length, 2);
  const s = throughputSample('wan', 1, judged);
  assert.equal(s.downloadMbps, 180);
  assert.equal(s.downloadLowerBound, undefined);
  assert.equal(s.bytesUsed, 2_000_000, 'both tests are charged');
});

test('measure: a low reading that cannot be confirmed (no budget) counts only as a lower bound', async () => {
  const deps = { watch: undefined, allowance: () => 0, cpuMs: () => 0, monoMs: () => 0, run: async () => result(0.6) };
  const judged = await measure(deps, ['down'], 4_000_000, view('healthy', []), policy);
  assert.equal(judged.get('down')?.suspect, 'unconfirmed');
  const s = throughputSample('wan', 1, judged);
  assert.equal(s.downloadLowerBound, true);
});

test('measure: latency under load and idle RTT reach the sample with the responsiveness figure', async () => {
  const deps = {
    watch: undefined,
    allowance: () => 0,
    cpuMs: () => 0,
    monoMs: () => 0,
    run: async () => result(40, { latency: { idleMs: 20, loadedMs: 240, loadedSamples: 10, loadedLost: 0 } }),
  };
  const s = throughputSample('wan', 1, await measure(deps, ['down'], 4_000_000, view('healthy', []), policy));
  assert.deepEqual([s.idleRttMs, s.loadedRttMs, s.responsivenessRpm], [20, 240, 250]);
});

test('notes: budget spent, a failing server, disturbed measurements and an expired low figure each say what follows', () => {
  const nowMs = 1_700_000_000_000;
  const notes = buildNotes({
    nowMs,
    targets: {},
    server: { failingSinceMs: nowMs - 60_000, lastError: 'HTTP 503 from http://x/' },
    budget: { budgetBytes: 10e6, usedBytes: 9.5e6, remainingBytes: 0.5e6, resetAtMs: nowMs + 3_600_000, spent: true },
    throughputConfigured: true,
    throughputEnabled: true,
    voids: [{ atMs: nowMs - 1_000, reason: 'starved', detail: 'event loop 400 ms late' }],
    lastThroughput: { uplink: 'wan', kind: 'throughput', atMs: nowMs - 900_000, downloadMbps: 0.44, bytesUsed: 1 },
    lastSkip: 'budget spent',
    policy,
  });
  assert.deepEqual(
    notes.map((n) => n.code),
    ['throughput_server_failing', 'budget_spent', 'measurements_disturbed', 'throughput_expired'],
  );
  assert.match(notes[3]?.message ?? '', /0\.44 Mbit\/s is 15 min old and no longer counts \(could not re-test: budget spent\)/);
});

test('measure: two capped readings that agree the link is slow count as a figure; one alone stays "at least"', async () => {
  // a tbf-shaped slow link: the load builds a queue (loaded RTT 50 ms over idle), so the capped readings filled it
  const latency = { idleMs: 20, loadedMs: 70, loadedSamples: 5, loadedLost: 0 };
  const capped = (mbps: number): ThroughputResult => result(mbps, { lowerBound: true, stable: false, stopReason: 'allowance', latency });
  const readings = [capped(1.8), capped(1.9)];
  const deps = { watch: undefined, allowance: () => 1_000_000, cpuMs: () => 0, monoMs: () => 0, run: async () => readings.shift() as ThroughputResult };
  const s = throughputSample('wan', 1, await measure(deps, ['down'], 600_000, view('healthy', []), policy));
  assert.equal(s.downloadMbps, 1.9);
  assert.equal(s.downloadLowerBound, undefined, 'agreed: the link is slow');
  const alone = { ...deps, allowance: () => 0, run: async () => capped(1.8) };
  const s2 = throughputSample('wan', 1, await measure(alone, ['down'], 600_000, view('healthy', []), policy));
  assert.equal(s2.downloadLowerBound, true, 'no second test: only "at least"');
  const disagree = [capped(1.8), capped(40)];
  const s3 = throughputSample(
    'wan',
    1,
    await measure({ ...deps, run: async () => disagree.shift() as ThroughputResult }, ['down'], 600_000, view('healthy', []), policy),
  );
  assert.equal(s3.downloadMbps, 40);
  assert.equal(s3.downloadLowerBound, true, 'the better reading is itself only "at least"');
});

test('a light round beside its own speed test is set aside only while that test moves bytes (a stalled test hides no cut)', () => {
  const start = 10_000;
  assert.equal(overlapsLoadingTest(false, start, start), false, 'no test running');
  assert.equal(overlapsLoadingTest(true, start + 50, start), true, 'bytes moved during the round: the round measured the test queue');
  assert.equal(overlapsLoadingTest(true, start - SPEEDTEST_IDLE_MS, start), true, 'moved just before the round');
  assert.equal(overlapsLoadingTest(true, start - SPEEDTEST_IDLE_MS - 1, start), false, 'stalled longer than the idle bound: the link is idle');
  assert.equal(overlapsLoadingTest(true, Number.NEGATIVE_INFINITY, start), false, 'never moved a byte');
});

test('runJudged: inside the start-up warm-up the agent sets a figure aside; a one-shot CLI (warmup false) does not, but starvation still does', async () => {
  const c = new StallClock();
  const watch = new DisturbanceWatch(c);
  const base = { watch, allowance: () => 0, cpuMs: () => 0, monoMs: () => c.monoMs() };
  const quiet = async (): Promise<ThroughputResult> => (c.pass(1_000), result(50));
  assert.equal((await runJudged({ ...base, run: quiet }, 'down', 1_000_000)).suspect, 'warmup');
  assert.equal((await runJudged({ ...base, warmup: false, run: quiet }, 'down', 1_000_000)).suspect, null);
  const starved = async (): Promise<ThroughputResult> => (c.pass(1_000, true), result(50));
  const j = await runJudged({ ...base, warmup: false, run: starved }, 'down', 1_000_000);
  assert.equal(j.suspect, 'starved');
  assert.match(j.detail ?? '', /starved of CPU/);
});
