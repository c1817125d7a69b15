// Link-state benchmark (simulated clock): detection/recovery time for step changes, transitions under flapping, CPU per step.
// Light probes every 5 s = the probes.interval default. Usage: node scripts/bench/link.mjs [--json]   (prints JSON lines, then a readable table unless --json)
import { performance } from 'node:perf_hooks';
import { defaultLinkHealthConfig } from '../../agent/config/link.ts';
import { evaluate, initialLinkState, nextDeadlineMs, step } from '../../agent/core/link-state.ts';

const policy = defaultLinkHealthConfig();
const T0 = 1_700_000_000_000;
/** Random phases of the step relative to the probe schedule; 200 gives stable p95 figures in well under a second. */
const PHASES = 200;
const jsonOnly = process.argv.includes('--json');

/** @returns {import('../../agent/core/types.ts').ProbeSample} */
function light(atMs, over = {}) {
  return {
    uplink: 'wan',
    kind: /** @type {const} */ ('light'),
    atMs,
    rttMs: 30,
    rttP95Ms: 40,
    jitterMs: 3,
    lossPercent: 0,
    targetsUp: 3,
    targetsTotal: 3,
    reachable: true,
    bytesUsed: 600,
    ...over,
  };
}

/**
 * Event-driven replay exactly like the component: a sample every `everyMs` (light probe), plus evaluations at the
 * machine's own deadlines (dwell end, staleness, damping release). Returns node transitions.
 */
function replay(untilMs, everyMs, sampleAt, phaseMs = 0) {
  let state = initialLinkState(['wan'], T0);
  const transitions = [];
  let nextSample = T0 + phaseMs;
  let now = T0;
  for (let guard = 0; guard < 5_000_000 && now <= untilMs; guard++) {
    const deadline = nextDeadlineMs(state, now, policy);
    if (deadline !== null && deadline < nextSample) {
      now = deadline;
      const r = evaluate(state, now, policy);
      state = r.state;
      transitions.push(...r.transitions.filter((t) => t.uplink === null));
    } else {
      now = nextSample;
      nextSample += everyMs;
      const r = step(state, sampleAt(now), now, policy);
      state = r.state;
      transitions.push(...r.transitions.filter((t) => t.uplink === null));
    }
  }
  return transitions;
}

function quantiles(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { median: q(0.5), p95: q(0.95), max: s[s.length - 1] };
}

/** Time from the step (at T0 + 300 s, random phase) to the node reaching `want`, and back after `durationMs`. */
function stepCase(name, everyMs, bad, want, good = {}, durationMs = 600_000) {
  const detect = [];
  const recover = [];
  for (let i = 0; i < PHASES; i++) {
    const phase = Math.floor((i / PHASES) * everyMs);
    const start = T0 + 300_000;
    const end = start + durationMs;
    const tr = replay(end + 600_000, everyMs, (t) => light(t, t >= start && t < end ? bad : good), phase);
    const entered = tr.find((t) => t.atMs >= start && t.to === want);
    const back = tr.find((t) => t.atMs >= end && t.to === 'healthy');
    if (entered) detect.push((entered.atMs - start) / 1000);
    if (back) recover.push((back.atMs - end) / 1000);
  }
  return {
    case: name,
    probeEveryS: everyMs / 1000,
    detectS: quantiles(detect),
    recoverS: quantiles(recover),
    runs: PHASES,
    detected: detect.length,
    recovered: recover.length,
  };
}

function flapCase(name, halfS, hours, everyMs) {
  const start = T0 + 300_000;
  const end = start + hours * 3_600_000;
  const tr = replay(end + 3 * 3_600_000, everyMs, (t) =>
    light(t, t >= start && t < end && Math.floor((t - start) / (halfS * 1000)) % 2 === 0 ? { rttP95Ms: 400, lossPercent: 5 } : {}),
  );
  const during = tr.filter((t) => t.atMs >= start);
  const last = during.at(-1);
  return {
    case: name,
    flipEveryS: halfS,
    hours,
    nodeTransitions: during.length,
    recoveredAfterEndS: last && last.to === 'healthy' ? Math.round((last.atMs - end) / 1000) : null,
  };
}

function cpuCase() {
  let state = initialLinkState(['wan', 'lte', 'sat'], T0);
  const n = 100_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const now = T0 + i * 1000;
    state = step(state, { ...light(now, { rttP95Ms: 40 + (i % 7) * 60 }), uplink: ['wan', 'lte', 'sat'][i % 3] }, now, policy).state;
  }
  return { case: 'cpu: step() with 3 uplinks', steps: n, microsPerStep: Math.round((((performance.now() - t0) * 1000) / n) * 10) / 10 };
}

const results = [
  stepCase('soft: RTT p95 40→400 ms', 5_000, { rttP95Ms: 400 }, 'degraded'),
  stepCase('soft: loss 0→10 %', 5_000, { lossPercent: 10 }, 'degraded'),
  stepCase('soft: RTT p95 40→400 ms', 30_000, { rttP95Ms: 400 }, 'degraded'),
  stepCase('hard: targets unreachable', 5_000, { reachable: false, targetsUp: 0, lossPercent: 100 }, 'down'),
  stepCase('hard: carrier lost', 5_000, { carrier: false, reachable: false, targetsUp: 0, lossPercent: 100 }, 'down', { carrier: true }),
  stepCase('hard: targets unreachable', 30_000, { reachable: false, targetsUp: 0, lossPercent: 100 }, 'down'),
  stepCase('metric down: loss 0→40 %', 5_000, { lossPercent: 40 }, 'down'),
  flapCase('square wave', 30, 1, 5_000),
  flapCase('square wave', 120, 1, 10_000),
  flapCase('square wave', 5, 1, 1_000),
  cpuCase(),
];
for (const r of results) process.stdout.write(JSON.stringify(r) + '\n');
if (!jsonOnly) {
  const f = (q) => (q ? `${q.median} / ${q.p95} / ${q.max}` : '');
  process.stdout.write('\ncase                               probe   detect s (med/p95/max)   recover s (med/p95/max)\n');
  for (const r of results.filter((x) => x.detectS))
    process.stdout.write(`${r.case.padEnd(34)} ${String(r.probeEveryS + 's').padEnd(7)} ${f(r.detectS).padEnd(24)} ${f(r.recoverS)}\n`);
  process.stdout.write('\ncase                       flip every   hours   node transitions   healthy again after end\n');
  for (const r of results.filter((x) => x.flipEveryS))
    process.stdout.write(
      `${r.case.padEnd(26)} ${String(r.flipEveryS + 's').padEnd(12)} ${String(r.hours).padEnd(7)} ${String(r.nodeTransitions).padEnd(18)} ${r.recoveredAfterEndS ?? '—'}s\n`,
    );
  const cpu = results.find((x) => x.microsPerStep);
  process.stdout.write(`\n${cpu.case}: ${cpu.microsPerStep} µs per step (${cpu.steps} steps)\n`);
}
