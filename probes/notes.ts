/** Measurement notes of one uplink for operators: server, budget, disturbance and expiry problems, never link faults. Pure. */
import type { BudgetStatus, MeasurementNote, ProbeSample, VoidReason } from '../agent/core/types.ts';
import type { LinkHealthConfig } from '../agent/config/link.ts';
import { isLowThroughput } from '../agent/core/link-verdict.ts';
import { SLOW_SERVER_RUNS } from './confirmation-report.ts';
import { targetNotes, type TargetBook } from './target-health.ts';

/** Void measurements are reported for this long after the last one. */
export const DISTURBED_NOTE_WINDOW_MS = 600_000;

/** One measurement the agent set aside. */
export interface VoidEvent {
  atMs: number;
  reason: VoidReason;
  detail: string;
}

/** Throughput server health as the monitor saw it. */
export interface ServerHealth {
  /** First failure of the current run of failures (null: the last test worked or none ran). */
  failingSinceMs: number | null;
  lastError?: string;
  /** Tests in a row in which this server read low and the confirmation server overruled it, since when. */
  slowRuns?: number;
  slowSinceMs?: number;
}

export interface NoteInput {
  nowMs: number;
  targets: TargetBook;
  server: ServerHealth;
  budget: BudgetStatus;
  throughputConfigured: boolean;
  throughputEnabled: boolean;
  voids: readonly VoidEvent[];
  /** Newest throughput sample and why the last re-test could not run (budget, busy...). */
  lastThroughput?: ProbeSample;
  lastSkip?: string;
  policy: LinkHealthConfig;
  /** Targets this uplink cannot probe (no source address of their family), since when. */
  unprobed?: { sinceMs: number; targets: readonly { id: string; problem: string }[] };
}

const VOID_WORDS: Record<VoidReason, string> = {
  starved: 'the agent was starved of CPU',
  warmup: 'taken while the agent was starting',
  clock_step: 'the wall clock stepped',
  overlap: "they overlapped the agent's own speed test",
  stalled: 'a TCP stall inside a speed test',
  cpu_bound: "the speed test was limited by this device's CPU",
  unconfirmed: 'a low speed reading could not be confirmed by a second test',
};

function mb(n: number): string {
  return `${(n / 1e6).toFixed(1)} MB`;
}

/** The latest event of the most frequent reason among `voids` (ties: the reason seen last): what the note names. */
function mainVoid(voids: readonly VoidEvent[]): VoidEvent {
  const count = new Map<VoidReason, number>();
  for (const v of voids) count.set(v.reason, (count.get(v.reason) ?? 0) + 1);
  let main = voids[voids.length - 1] as VoidEvent;
  for (let i = voids.length - 1; i >= 0; i--) {
    const v = voids[i] as VoidEvent;
    if ((count.get(v.reason) ?? 0) > (count.get(main.reason) ?? 0)) main = v;
  }
  return main;
}

/** Every note that applies now; each says what is wrong and what follows from it. */
export function buildNotes(i: NoteInput): MeasurementNote[] {
  const notes = targetNotes(i.targets);
  for (const k of i.unprobed?.targets ?? [])
    notes.push({ code: 'target_unprobed', sinceMs: i.unprobed!.sinceMs, message: `probe target ${k.id} is not probed through this uplink: ${k.problem}` });
  if (!i.throughputConfigured) {
    notes.push({
      code: 'throughput_disabled',
      sinceMs: i.nowMs,
      message: 'no speed tests: probes.throughput.url is not set, so download/upload are not measured (set it to a `linkward probe-server`)',
    });
  } else if (!i.throughputEnabled) {
    notes.push({
      code: 'throughput_disabled',
      sinceMs: i.nowMs,
      message: 'speed tests are off (probes.throughput.enabled: false): download/upload are not measured',
    });
  }
  if (i.server.failingSinceMs !== null) {
    notes.push({
      code: 'throughput_server_failing',
      sinceMs: i.server.failingSinceMs,
      message: `the speed-test server is failing (${i.server.lastError ?? 'no answer'}): a server problem, not the link; download/upload figures are not refreshed`,
    });
  }
  if ((i.server.slowRuns ?? 0) >= SLOW_SERVER_RUNS) {
    notes.push({
      code: 'throughput_server_slow',
      sinceMs: i.server.slowSinceMs ?? i.nowMs,
      message: `the speed-test server (probes.throughput.url) read this uplink low in ${i.server.slowRuns} tests in a row while the confirmation server (confirmUrl) read it well: a slow server, not the link; each such test costs a second one (check the server's load and its own uplink)`,
    });
  }
  if (i.throughputConfigured && i.throughputEnabled && i.budget.spent) {
    notes.push({
      code: 'budget_spent',
      sinceMs: i.nowMs,
      message: `today's probe budget is spent (${mb(i.budget.usedBytes)} of ${mb(i.budget.budgetBytes)}): no speed tests until ${new Date(i.budget.resetAtMs).toISOString().slice(11, 16)} UTC`,
    });
  }
  const recent = i.voids.filter((v) => i.nowMs - v.atMs <= DISTURBED_NOTE_WINDOW_MS);
  if (recent.length > 0) {
    const main = mainVoid(recent);
    const n = recent.length;
    const most = n > 1 && recent.some((v) => v.reason !== main.reason) ? 'most ' : '';
    notes.push({
      code: 'measurements_disturbed',
      sinceMs: (recent[0] as VoidEvent).atMs,
      message: `${n} measurement${n === 1 ? '' : 's'} set aside in the last ${DISTURBED_NOTE_WINDOW_MS / 60_000} min, ${most}because ${VOID_WORDS[main.reason]} (${main.detail}); they never made the link look worse`,
    });
  }
  const t = i.lastThroughput;
  if (t) {
    for (const [field, label] of [
      ['downloadMbps', 'download'],
      ['uploadMbps', 'upload'],
    ] as const) {
      const v = t[field];
      if (v === undefined || !isLowThroughput(field, v, i.policy)) continue;
      const ageMs = i.nowMs - t.atMs;
      if (ageMs <= i.policy.maxAge.lowThroughputS * 1000) continue;
      const why = i.lastSkip ? `could not re-test: ${i.lastSkip}` : 'no re-test ran';
      notes.push({
        code: 'throughput_expired',
        sinceMs: t.atMs + i.policy.maxAge.lowThroughputS * 1000,
        message: `the ${label} figure ${v.toFixed(2)} Mbit/s is ${Math.round(ageMs / 60_000)} min old and no longer counts (${why}); the verdict rests on the fresh light probes`,
      });
    }
  }
  return notes;
}
