/** Edge-site lab: the speed tests the agent ran on an uplink in a time span, and which figures it set aside, from its log. */
import { readFileSync } from 'node:fs';

/** One finished test's download figure as the agent logged it (`throughput probe`). */
export interface SpeedTest {
  /** When the agent logged it (epoch ms, the host's clock). */
  atMs: number;
  downMbps?: number;
  /** Why the agent did not vouch for the download figure (starved, stalled, cpu_bound, unconfirmed, warmup...). */
  setAside?: string;
}

interface ProbeLine {
  time?: number;
  msg?: string;
  uplink?: string;
  ran?: boolean;
  down?: number;
  suspect?: { down?: string };
}

/** Reads the agent's JSON log: the tests on `uplink` that finished inside [fromMs, toMs], oldest first. */
export function speedTestsSeen(logPath: string, uplink: string, fromMs: number, toMs: number): SpeedTest[] {
  let text = '';
  try {
    text = readFileSync(logPath, 'utf8');
  } catch {
    return [];
  }
  const out: SpeedTest[] = [];
  for (const raw of text.split('\n')) {
    if (!raw.includes('"throughput probe"')) continue;
    let l: ProbeLine;
    try {
      l = JSON.parse(raw) as ProbeLine;
    } catch {
      continue;
    }
    if (l.msg !== 'throughput probe' || l.uplink !== uplink || l.ran !== true || l.time === undefined) continue;
    if (l.time < fromMs || l.time > toMs) continue;
    out.push({ atMs: l.time, ...(l.down !== undefined ? { downMbps: l.down } : {}), ...(l.suspect?.down ? { setAside: l.suspect.down } : {}) });
  }
  return out;
}

/** The first download figure below `enterMbps` that the agent vouched for: the evidence a degraded verdict may rest on. */
export function firstVouchedLow(tests: readonly SpeedTest[], enterMbps: number): SpeedTest | undefined {
  return tests.find((t) => t.setAside === undefined && t.downMbps !== undefined && t.downMbps < enterMbps);
}

/** "3 of 5 set aside (starved 2, unconfirmed 1)". */
export function setAsideWords(tests: readonly SpeedTest[]): string {
  const by: Record<string, number> = {};
  for (const t of tests) if (t.setAside) by[t.setAside] = (by[t.setAside] ?? 0) + 1;
  const n = Object.values(by).reduce((a, b) => a + b, 0);
  const parts = Object.entries(by).map(([r, k]) => `${r} ${k}`);
  return `${n} of ${tests.length} set aside${n > 0 ? ` (${parts.join(', ')})` : ''}`;
}
