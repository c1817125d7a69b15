/** What a judged direction amounts to: the figure the verdict takes, its wire bytes, and the throughput sample (pure). */
import type { ProbeSample } from '../agent/core/types.ts';
import { confirmedFigure } from './throughput-policy.ts';
import { honestBound } from './throughput-result.ts';
import type { Direction, ThroughputResult } from './throughput.ts';
import type { JudgedDirection } from './uplink-throughput.ts';

/** The figure a judged direction reports (the better of two readings when confirmed), and whether it is only a lower bound. */
export function figureOf(j: JudgedDirection): { mbps?: number; lowerBound: boolean } {
  if (j.pathMbps !== undefined) return { mbps: j.pathMbps, lowerBound: false };
  const first = j.result.mbps;
  if (first === undefined) return { lowerBound: false };
  const mbps = confirmedFigure(first, j.confirmation?.mbps);
  const fromSecond = j.confirmation?.mbps !== undefined && j.confirmation.mbps > first;
  const lowerBound = j.suspect !== null || (j.agreedLow !== true && (fromSecond ? j.confirmation?.lowerBound === true : j.result.lowerBound === true));
  if (!lowerBound) return { mbps, lowerBound };
  // a lower bound may prove a link good (link-merge), so it must be one: each reading held to what its test delivered
  // (a vouched first reading stands as it is), and the better of the two
  const own = j.suspect === null && !j.result.lowerBound ? first : honestBound(first, j.result);
  const second = j.confirmation?.mbps !== undefined ? honestBound(j.confirmation.mbps, j.confirmation) : undefined;
  return { mbps: second === undefined ? own : Math.max(own, second), lowerBound };
}

/** Wire bytes of a judged direction, second test included. */
export function bytesOf(j: JudgedDirection): number {
  return j.result.bytesUsed + (j.confirmation?.bytesUsed ?? 0);
}

/** Builds the throughput sample from the judged directions. Whole-sample void when every figure is suspect for the same whole-test reason. */
export function throughputSample(uplink: string, atMs: number, judged: ReadonlyMap<Direction, JudgedDirection>): ProbeSample {
  const s: ProbeSample = { uplink, kind: 'throughput', atMs, bytesUsed: 0 };
  const latencies: NonNullable<ThroughputResult['latency']>[] = [];
  for (const [dir, j] of judged) {
    s.bytesUsed += bytesOf(j);
    const f = figureOf(j);
    if (j.result.latency) latencies.push(j.result.latency);
    if (f.mbps === undefined) continue;
    if (dir === 'down') {
      s.downloadMbps = f.mbps;
      if (f.lowerBound) s.downloadLowerBound = true;
    } else {
      s.uploadMbps = f.mbps;
      if (f.lowerBound) s.uploadLowerBound = true;
    }
  }
  const wholeTest = [...judged.values()].map((j) => j.suspect).filter((r): r is 'warmup' | 'clock_step' => r === 'warmup' || r === 'clock_step');
  if (wholeTest.length > 0) s.void = wholeTest[0];
  const idle = latencies.map((l) => l.idleMs).filter((v): v is number => v !== undefined);
  const loaded = latencies.map((l) => l.loadedMs).filter((v): v is number => v !== undefined);
  if (idle.length > 0) s.idleRttMs = Math.min(...idle);
  if (loaded.length > 0) {
    s.loadedRttMs = Math.max(...loaded);
    s.responsivenessRpm = Math.round(60_000 / (s.loadedRttMs as number));
  }
  return s;
}
