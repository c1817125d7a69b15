/** Unit: the event-loop thread's run-queue time sets a speed test aside when the agent wanted a CPU the whole test. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSchedstat, threadCpu, threadCpuBetween, type ThreadCpu } from '../../../probes/run-queue.ts';
import { loopBound, suspectFigure } from '../../../probes/throughput-policy.ts';
import type { ThroughputResult } from '../../../probes/throughput.ts';
import { runJudged } from '../../../probes/uplink-throughput.ts';
import { throughputResult } from '../../support/throughput-results.ts';

test('schedstat: run and run-queue nanoseconds become milliseconds; anything else is no reading', () => {
  assert.deepEqual(parseSchedstat('2958516 1500000 2\n'), { runMs: 2.958516, waitMs: 1.5 });
  assert.equal(parseSchedstat(''), null);
  assert.equal(parseSchedstat('12'), null);
  assert.equal(parseSchedstat('x 1 2'), null);
  assert.equal(parseSchedstat('-5 1 2'), null);
  assert.deepEqual(threadCpuBetween({ runMs: 10, waitMs: 5 }, { runMs: 40, waitMs: 75 }), { runMs: 30, waitMs: 70 });
  assert.equal(threadCpuBetween(null, { runMs: 1, waitMs: 1 }), null);
  assert.equal(threadCpuBetween({ runMs: 10, waitMs: 5 }, { runMs: 9, waitMs: 5 }), null, 'counters never go back');
});

test('schedstat: this Linux gives the calling thread figures that grow while it computes', () => {
  const before = threadCpu();
  assert.ok(before, '/proc/thread-self/schedstat readable on the test machine');
  // spin until the thread has run 20 ms (bounded: 5 s of wall time, however busy the machine is)
  let d = threadCpuBetween(before, threadCpu());
  const giveUpAt = performance.now() + 5_000;
  while ((d?.runMs ?? 0) < 20 && performance.now() < giveUpAt) d = threadCpuBetween(before, threadCpu());
  assert.ok(d && d.runMs >= 20 && d.waitMs >= 0, `ran ${d?.runMs} ms`);
});

test('a thread that ran or waited for a CPU ≥ 90 % of the test is CPU-bound; one that idled waiting for the link is not', () => {
  assert.equal(loopBound({ runMs: 200, waitMs: 720 }, 1_000), true, '8 busy loops: waited 72 %');
  assert.equal(loopBound({ runMs: 300, waitMs: 400 }, 1_000), false, 'idle 30 %: the link set the pace part of the time');
  assert.equal(loopBound(null, 1_000), false, 'no reading: not judged');
  assert.equal(loopBound({ runMs: 0, waitMs: 0 }, 0), false);
  const base = { starved: false, stalled: false, cpuMs: 300, wallMs: 1_000 };
  assert.equal(suspectFigure({ ...base, loop: { runMs: 250, waitMs: 700 } }), 'cpu_bound');
  assert.equal(suspectFigure({ ...base, loop: { runMs: 250, waitMs: 100 } }), null);
  assert.equal(suspectFigure(base), null);
});

const figure = (mbps: number): ThroughputResult => throughputResult(mbps, { payloadBytes: 1_000_000 });

test('runJudged: a figure taken while the loop waited for a CPU most of the test is only a lower bound, and says why', async () => {
  let mono = 0;
  const readings: ThreadCpu[] = [
    { runMs: 1_000, waitMs: 500 },
    { runMs: 1_250, waitMs: 1_200 },
  ];
  const j = await runJudged(
    {
      watch: undefined,
      allowance: () => 0,
      cpuMs: () => mono * 0.3,
      monoMs: () => mono,
      loopCpu: () => readings.shift() ?? null,
      run: async () => {
        mono += 1_000;
        return figure(4.5);
      },
    },
    'down',
    6_000_000,
  );
  assert.equal(j.suspect, 'cpu_bound');
  assert.match(j.detail ?? '', /waited for a CPU 70 % of the test and ran 25 %/);
});

test('runJudged: without run-queue figures the CPU share alone judges (a kernel without schedstat)', async () => {
  let mono = 0;
  const j = await runJudged(
    {
      watch: undefined,
      allowance: () => 0,
      cpuMs: () => mono * 0.3,
      monoMs: () => mono,
      loopCpu: () => null,
      run: async () => {
        mono += 1_000;
        return figure(40);
      },
    },
    'down',
    6_000_000,
  );
  assert.equal(j.suspect, null);
});
