/** Test helpers for the link area: probe-sample builders, a seeded PRNG, and a driver that replays samples on a simulated clock. */
import type { ProbeSample } from '../../agent/core/types.ts';
import type { LinkHealthConfig } from '../../agent/config/link.ts';
import { evaluate, initialLinkState, step, type LinkState, type StepResult, type Transition } from '../../agent/core/link-state.ts';

export const T0 = 1_700_000_000_000;

/** A light-probe sample with good defaults (RTT p95 40 ms, 0 % loss, 3/3 targets). */
export function light(uplink: string, atMs: number, over: Partial<ProbeSample> = {}): ProbeSample {
  return {
    uplink,
    kind: 'light',
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

/** A passive sample reporting the interface carrier (e.g. cable or modem gone). */
export function carrier(uplink: string, atMs: number, up: boolean): ProbeSample {
  return { uplink, kind: 'passive', atMs, carrier: up, bytesUsed: 0 };
}

/** A throughput sample. */
export function tput(uplink: string, atMs: number, downloadMbps: number, uploadMbps: number): ProbeSample {
  return { uplink, kind: 'throughput', atMs, downloadMbps, uploadMbps, bytesUsed: 2_000_000 };
}

/** Mulberry32: small deterministic PRNG so random tests are reproducible from the printed seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Run {
  state: LinkState;
  transitions: Transition[];
}

/**
 * Drives the machine like the component does: a sample every `sampleEveryMs` (from `make`), and an evaluation every
 * `tickMs` in between, from `fromMs` to `toMs`. Transitions are collected in order.
 */
export function simulate(
  run: Run,
  policy: LinkHealthConfig,
  fromMs: number,
  toMs: number,
  sampleEveryMs: number,
  make: (atMs: number) => ProbeSample | null,
  tickMs = 1000,
): Run {
  let { state } = run;
  const transitions = [...run.transitions];
  let nextSample = fromMs;
  for (let t = fromMs; t <= toMs; t += tickMs) {
    let r: StepResult;
    if (t >= nextSample) {
      nextSample += sampleEveryMs;
      const s = make(t);
      r = s ? step(state, s, t, policy) : evaluate(state, t, policy);
    } else {
      r = evaluate(state, t, policy);
    }
    state = r.state;
    transitions.push(...r.transitions);
  }
  return { state, transitions };
}

export function fresh(order: string[], atMs = T0): Run {
  return { state: initialLinkState(order, atMs), transitions: [] };
}
