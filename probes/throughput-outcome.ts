/** What a finished throughput test amounts to: the outcome, the sample, its suspect figures and the server's health. Pure. */
import type { ProbeSample, VoidReason } from '../agent/core/types.ts';
import type { LinkHealthConfig } from '../agent/config/link.ts';
import { confirmationReport, slowServerRun, type ConfirmationReport } from './confirmation-report.ts';
import type { ServerHealth } from './notes.ts';
import type { FailureReason } from './throughput-result.ts';
import type { ThroughputResult } from './throughput.ts';
import { figureOf, throughputSample } from './judged-figure.ts';
import type { JudgedDirection } from './uplink-throughput.ts';

export type SkipReason = 'budget' | 'traffic' | 'no_url' | 'busy' | 'disabled' | 'no_source' | 'stopped';

export interface ThroughputOutcome {
  uplink: string;
  ran: boolean;
  skipped?: SkipReason;
  /** Why it could not run (no_source). */
  error?: string;
  sample?: ProbeSample;
  download?: ThroughputResult;
  upload?: ThroughputResult;
  /** Figures the agent could not vouch for (they count only as lower bounds), per direction. */
  suspect?: { down?: string; up?: string };
}

export const SKIP_WORDS: Record<SkipReason, string> = {
  budget: 'budget spent',
  traffic: 'link busy with traffic',
  no_url: 'no server configured',
  busy: 'a test was running',
  disabled: 'speed tests are off',
  no_source: 'no source address',
  stopped: 'the agent was stopping',
};

/** A finished test, judged. */
export interface RecordedTest {
  out: ThroughputOutcome;
  /** Figures kept only as lower bounds, with why. */
  suspects: { reason: VoidReason; detail: string }[];
  errors: string[];
  /** Label of the first error (for the failures metric), when there was one. */
  failure?: FailureReason;
  /** No figure at all and errors: the server did not serve the test. */
  failed: boolean;
  /** The second tests that ran, what each read and what they concluded. */
  confirmations: ConfirmationReport[];
}

/** Builds the outcome of a finished test at `nowMs`. */
export function outcomeOf(uplink: string, nowMs: number, judged: ReadonlyMap<'down' | 'up', JudgedDirection>, policy: LinkHealthConfig): RecordedTest {
  const s: ProbeSample = throughputSample(uplink, nowMs, judged);
  const out: ThroughputOutcome = { uplink, ran: true, sample: s };
  const suspect: NonNullable<ThroughputOutcome['suspect']> = {};
  const suspects: RecordedTest['suspects'] = [];
  for (const [dir, j] of judged) {
    // the direction as run, with the figure the sample carries (confirmed, held to its floor when only "at least")
    const f = figureOf(j);
    const shown = { ...j.result, lowerBound: f.lowerBound, ...(f.mbps !== undefined ? { mbps: f.mbps } : {}) };
    if (dir === 'down') out.download = shown;
    else out.upload = shown;
    if (!j.suspect) continue;
    suspect[dir] = j.suspect;
    suspects.push({ reason: j.suspect, detail: `${dir === 'down' ? 'download' : 'upload'}: ${j.detail ?? j.suspect}` });
  }
  if (Object.keys(suspect).length > 0) out.suspect = suspect;
  const results = [...judged.values()].flatMap((j) => (j.confirmation ? [j.result, j.confirmation] : [j.result]));
  const errors = results.flatMap((r) => r.errors);
  const first = results.find((r) => r.errors.length > 0);
  const measured = s.downloadMbps !== undefined || s.uploadMbps !== undefined;
  const confirmations = [...judged].flatMap(([dir, j]) => confirmationReport(dir, j, policy) ?? []);
  return { out, suspects, errors, ...(first ? { failure: first.failure ?? 'error' } : {}), failed: errors.length > 0 && !measured, confirmations };
}

/**
 * Server health after a recorded test: failing since the first failure of the current run, healthy after any figure;
 * slow (its own server read low and the confirmation server overruled it) for as many runs in a row as that held.
 */
export function serverAfter(prev: ServerHealth, r: RecordedTest, nowMs: number): ServerHealth {
  if (r.failed) return { failingSinceMs: prev.failingSinceMs ?? nowMs, lastError: r.errors[0] as string };
  if (!slowServerRun(r.confirmations)) return { failingSinceMs: null };
  return { failingSinceMs: null, slowRuns: (prev.slowRuns ?? 0) + 1, slowSinceMs: prev.slowSinceMs ?? nowMs };
}
