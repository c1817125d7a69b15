/** One throughput measurement of an uplink as the agent vouches for it: judged for disturbance, confirmed when it is bad news. */
import type { UplinkView, VoidReason } from '../agent/core/types.ts';
import type { LinkHealthConfig } from '../agent/config/link.ts';
import { THROUGHPUT_DISTURBED_LAG_MS, type DisturbanceWatch } from './disturbance.ts';
import { threadCpuBetween, type ThreadCpu } from './run-queue.ts';
import { CPU_BOUND_SHARE, enterValue, needsConfirmation, suspectFigure } from './throughput-policy.ts';
import { lowCanCount } from './saturation.ts';
import { pathFigure, silentFloor } from './silent-path.ts';
import type { Direction, ThroughputResult } from './throughput.ts';

/** One direction as run and judged. */
export interface JudgedDirection {
  result: ThroughputResult;
  /** Why the agent cannot vouch for this figure (it then counts only as a lower bound), or null. */
  suspect: VoidReason | null;
  detail?: string;
  /** The second test of a bad-news figure, or of a test that went silent, when one ran. */
  confirmation?: ThroughputResult;
  /** Which server the second test ran against: the confirmation server (confirmUrl) or the test's own (url). */
  confirmedOn?: 'confirm' | 'own';
  /** Why it ran: a figure that would worsen the verdict, or a test that went silent (silent-path.ts). */
  confirmedFor?: 'bad_news' | 'silent';
  /**
   * Both readings are below the degraded enter value: the link is slow, whatever caps ended the tests. On a slow link
   * the 2.5 s line-rate allowance ends nearly every test before its estimate settles, so each figure alone is only
   * "at least"; two that agree are a measurement (the trust lab: a 2 Mbit/s link was never judged slow otherwise).
   * Only readings that filled the path count (saturation.ts): on a long round trip two short tests both read slow
   * start and request gaps, not the link.
   */
  agreedLow?: boolean;
  /**
   * This test stalled or moved nothing, and the confirming test against the other server agreed the path delivers
   * little (silent-path.ts): the better of the two floors is the figure, vouched for.
   */
  pathMbps?: number;
}

export interface TestDeps {
  watch: DisturbanceWatch | undefined;
  /**
   * Runs one direction with `maxBytes` of allowance; `confirming`: the second test of a bad-news figure, run against
   * the confirmation server when one is configured (probes.throughput.confirmUrl).
   */
  run(direction: Direction, maxBytes: number, confirming?: boolean): Promise<ThroughputResult>;
  /**
   * Bytes one more test may use now (0: none may run), after `pendingBytes`: what this run has spent or set aside and
   * the budget has not recorded yet (it learns a run's bytes only when the run ends).
   */
  allowance(pendingBytes: number): number;
  /** A confirmation server other than the test's own is configured and reachable from this uplink (confirmUrl). */
  confirmServer?: boolean;
  /** The uplink's latest round-trip time (ms), to tell a silent test from one too short for a long-RTT link. */
  rttMs?: () => number | undefined;
  /** CPU time (ms) the process has used so far. */
  cpuMs(): number;
  /** The event-loop thread's run and run-queue time so far (null where the kernel does not say); absent: not judged. */
  loopCpu?: () => ThreadCpu | null;
  monoMs(): number;
  /**
   * Whether a test inside the process's start-up warm-up is set aside (default true: the agent's start is CPU-heavy
   * and reads a link low). A one-shot CLI measures after it has loaded, so it passes false.
   */
  warmup?: boolean;
}

/** Runs one direction inside a disturbance window and judges what the agent saw while it ran. */
export async function runJudged(d: TestDeps, direction: Direction, maxBytes: number, confirming = false): Promise<JudgedDirection> {
  const w = d.watch?.begin();
  const cpu0 = d.cpuMs();
  const loop0 = d.loopCpu?.() ?? null;
  const t0 = d.monoMs();
  const result = await d.run(direction, maxBytes, confirming);
  const disturbance = w && d.watch ? d.watch.end(w, THROUGHPUT_DISTURBED_LAG_MS, d.warmup ?? true) : null;
  if (disturbance && disturbance.reason !== 'starved') return { result, suspect: disturbance.reason, detail: disturbance.detail };
  const wallMs = d.monoMs() - t0;
  const cpuMs = d.cpuMs() - cpu0;
  const loop = d.loopCpu ? threadCpuBetween(loop0, d.loopCpu()) : null;
  const suspect = suspectFigure({ starved: disturbance !== null, stalled: result.stalled === true, cpuMs, wallMs, loop });
  const detail = suspect === 'starved' ? disturbance?.detail : suspect ? suspectDetail(suspect, cpuMs, wallMs, loop) : undefined;
  return { result, suspect, ...(detail ? { detail } : {}) };
}

/** What an operator reads for a figure set aside by what the agent saw of its own CPU or the connection. */
function suspectDetail(suspect: VoidReason, cpuMs: number, wallMs: number, loop: ThreadCpu | null): string | undefined {
  if (suspect === 'stalled') return 'a TCP stall inside the test';
  if (suspect !== 'cpu_bound') return undefined;
  if (cpuMs >= CPU_BOUND_SHARE * wallMs || !loop) return 'the agent used a whole CPU during the test: the figure is bounded by the CPU, not the link';
  const pct = (ms: number) => Math.round((100 * ms) / wallMs);
  return `the agent waited for a CPU ${pct(loop.waitMs)} % of the test and ran ${pct(loop.runMs)} % (busy cores): the figure is bounded by the CPU it got, not the link`;
}

/**
 * Runs the directions; a figure that would put the uplink into a worse level it is not already in is tested a second
 * time (when the budget allows; against the confirmation server when there is one) and the better of the two counts:
 * one reading never worsens a verdict, and with two servers neither can alone (a server serving at a trickle read
 * 1.13 Mbit/s through both uplinks of the lab, whose links carried 10 and 24: failover, then both degraded; slower
 * still, the node went down, the cordon tier). A bad-news figure that cannot be confirmed counts only as a lower bound
 * (`unconfirmed`).
 */
export async function measure(
  d: TestDeps,
  directions: readonly Direction[],
  perDirection: number,
  view: UplinkView | undefined,
  policy: LinkHealthConfig,
): Promise<Map<Direction, JudgedDirection>> {
  const out = new Map<Direction, JudgedDirection>();
  const run = new RunBytes(d, perDirection);
  for (const [i, dir] of directions.entries()) {
    // each direction's first test has its share (the caller sized perDirection by the budget); the directions still
    // to come keep theirs, so a confirmation here never eats it
    run.reserved = (directions.length - i - 1) * perDirection;
    const j = await runJudged(d, dir, perDirection);
    run.spent += j.result.bytesUsed;
    const mbps = j.result.mbps;
    if (j.suspect === null && mbps !== undefined && needsConfirmation(dir, mbps, view, policy)) {
      const allowed = run.next();
      if (allowed > 0) {
        const second = await confirmationRun(d, dir, allowed, run);
        j.confirmation = second.result;
        j.confirmedOn = second.confirmedOn ?? 'own';
        j.confirmedFor = 'bad_news';
        if (second.suspect !== null || second.result.mbps === undefined) {
          j.suspect = 'unconfirmed';
          const why = second.suspect ?? (second.result.errors[0] !== undefined ? `failed: ${second.result.errors[0]}` : 'no figure');
          j.detail = `a second test to confirm ${mbps.toFixed(2)} Mbit/s could not be vouched for (${why})`;
        } else if (needsConfirmation(dir, second.result.mbps, view, policy)) {
          const rttMs = d.rttMs?.();
          if (agreeable(j.result, rttMs) && agreeable(second.result, rttMs)) j.agreedLow = true;
          else {
            j.suspect = 'unconfirmed';
            j.detail = `two tests read ${mbps.toFixed(2)} and ${second.result.mbps.toFixed(2)} Mbit/s, but not both filled the path (too few round trips, no queue built): only "at least"`;
          }
        }
      } else if (!j.result.lowerBound) {
        j.suspect = 'unconfirmed';
        j.detail = `no budget left for a second test to confirm ${mbps.toFixed(2)} Mbit/s`;
      }
    } else if (d.confirmServer === true) await confirmSilent(d, dir, j, run, policy);
    out.set(dir, j);
  }
  return out;
}

/**
 * The bytes of one run (every test of every direction) against the day's budget, which records them only when the
 * run ends: each second test gets at most `perDirection`, and at most what the budget allows after what the run has
 * spent and what it keeps for the directions still to come. Without it one run with confirmations and a fallback
 * spent 9.0 MB against 3 MB spendable (a review's test: both directions low, the confirmation server resetting).
 */
class RunBytes {
  spent = 0;
  reserved = 0;
  readonly #d: TestDeps;
  readonly #perDirection: number;
  constructor(d: TestDeps, perDirection: number) {
    this.#d = d;
    this.#perDirection = perDirection;
  }
  /** Bytes the next test may use (0: it must not run). */
  next(): number {
    return Math.max(0, Math.min(this.#perDirection, this.#d.allowance(this.spent + this.reserved)));
  }
}

/**
 * The second test: against the confirmation server, and when that one fails outright (refused, an HTTP error, no
 * figure and an error), against the test's own server instead, as without one. A dead confirmation server otherwise
 * left every bad-news figure unconfirmed, so no link could be judged slow, and nothing said why.
 */
async function confirmationRun(d: TestDeps, dir: Direction, allowed: number, run: RunBytes): Promise<JudgedDirection> {
  const second = await runJudged(d, dir, allowed, true);
  run.spent += second.result.bytesUsed;
  if (d.confirmServer === true) second.confirmedOn = 'confirm';
  const failed = second.result.mbps === undefined && second.result.errors.length > 0;
  if (!failed || d.confirmServer !== true) return second;
  const budget = run.next();
  if (budget <= 0) return second;
  const again = await runJudged(d, dir, budget);
  run.spent += again.result.bytesUsed;
  // the failed run's bytes count against the budget, and its error is reported (a dead confirmUrl shows)
  const r = again.result;
  const errors = [...second.result.errors.map((e) => `confirmUrl: ${e}`), ...r.errors];
  const failure = r.failure ?? second.result.failure;
  return { ...again, confirmedOn: 'own', result: { ...r, bytesUsed: r.bytesUsed + second.result.bytesUsed, errors, ...(failure ? { failure } : {}) } };
}

/**
 * A test that went silent (silent-path.ts: a path that passes pings but not bulk data, or a server that stalls) is run
 * again against the other server; when that one also goes silent or vouches a low figure, the path is the cause and
 * the better of the two counts as a figure. Held or not: when the other vouches a good figure, that counts, so a
 * silent primary server cannot keep an uplink degraded. With one server such a test stays set aside (it cannot tell
 * the two apart).
 */
async function confirmSilent(d: TestDeps, dir: Direction, j: JudgedDirection, run: RunBytes, policy: LinkHealthConfig): Promise<void> {
  const rttMs = d.rttMs?.();
  const floor = silentFloor(j, rttMs);
  if (floor === null || floor >= enterValue(dir, policy)) return;
  const allowed = run.next();
  if (allowed <= 0) return;
  // never the fallback to `url`: the server that just went silent cannot confirm its own silence
  const second = await runJudged(d, dir, allowed, true);
  run.spent += second.result.bytesUsed;
  j.confirmation = second.result;
  j.confirmedOn = 'confirm';
  j.confirmedFor = 'silent';
  const other = pathFigure(second, rttMs);
  if (other === null) return;
  j.pathMbps = Math.max(floor, other);
  j.suspect = null;
  delete j.detail;
}

/** A reading that may count toward agreedLow: vouched by its own estimate, or capped and filling the path. */
function agreeable(r: ThroughputResult, rttMs: number | undefined): boolean {
  return !r.lowerBound || lowCanCount(r, rttMs);
}
