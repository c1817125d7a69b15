/** `linkward check` and `linkward wait`: link verdicts from the daemon's latest results for probes and init containers. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { checkQueryString, type LinkCheckQuery, type LinkCheckResult } from '../core/link-check.ts';
import type { LinkHealth } from '../core/types.ts';
import { systemClock, type Clock } from '../base/clock.ts';
import { isLwError, messageOf } from '../base/errors.ts';
import { Exit } from './exit-codes.ts';
import { CLI_REQUEST_TIMEOUT_MS, daemonGet, daemonTarget, type DaemonOptions, type DaemonTarget } from './client.ts';
import { exitForHealth, withDaemonOptions } from './status.ts';

/** Default poll interval of `wait`: the daemon re-evaluates every few seconds, polling faster gains nothing. */
export const WAIT_POLL_INTERVAL_MS = 2_000;
/** Default `wait --timeout`: long enough for a cold boot with a slow modem, short enough to surface a dead link. */
export const WAIT_DEFAULT_TIMEOUT_MS = 600_000;

/** Answer of /readyz/link (200 or 503). */
export type ReadyzLinkBody = LinkCheckResult & { status: string };

export interface CheckOptions extends DaemonOptions {
  minDown?: number;
  minUp?: number;
  maxRtt?: number;
  maxLoss?: number;
  maxAge?: number;
  uplink?: string;
  json?: boolean;
}

/** A non-negative number option. */
export function nonNegative(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a non-negative number');
  return n;
}

/** Parses durations such as 500ms, 30s, 10m, 1h, 1h30m; a bare number is seconds. */
export function parseDuration(text: string): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let consumed = 0;
  for (const m of t.matchAll(re)) {
    total += Number(m[1]) * (unit[m[2] ?? 's'] ?? 1000);
    consumed += m[0].length;
  }
  if (consumed === 0 || consumed !== t.length) throw new InvalidArgumentError(`"${text}" is not a duration (use e.g. 30s, 10m, 1h)`);
  return total;
}

export function queryFromOptions(o: CheckOptions): LinkCheckQuery {
  const q: LinkCheckQuery = {};
  if (o.minDown !== undefined) q.minDownMbps = o.minDown;
  if (o.minUp !== undefined) q.minUpMbps = o.minUp;
  if (o.maxRtt !== undefined) q.maxRttMs = o.maxRtt;
  if (o.maxLoss !== undefined) q.maxLossPercent = o.maxLoss;
  if (o.maxAge !== undefined) q.maxAgeS = o.maxAge;
  if (o.uplink !== undefined) q.uplink = o.uplink;
  return q;
}

/** One request to /readyz/link; `unreachable` carries the reason when there is no usable answer. */
export async function fetchVerdict(
  target: DaemonTarget,
  q: LinkCheckQuery,
  timeoutMs = CLI_REQUEST_TIMEOUT_MS,
): Promise<{ body: ReadyzLinkBody } | { unreachable: string; usage?: boolean }> {
  try {
    const r = await daemonGet<ReadyzLinkBody & { error?: { message: string } }>(target, '/readyz/link' + checkQueryString(q), timeoutMs);
    if ((r.status === 200 || r.status === 503) && r.body && typeof r.body.verdict === 'string') return { body: r.body };
    if (r.status === 400) return { unreachable: r.body?.error?.message ?? 'bad request', usage: true };
    if (r.status === 404) return { unreachable: `daemon at ${target.baseUrl} does not serve /readyz/link (link state disabled or an older version)` };
    return { unreachable: `daemon answered ${r.status}` };
  } catch (e) {
    return { unreachable: isLwError(e) ? e.message : messageOf(e) };
  }
}

function describe(b: ReadyzLinkBody): string {
  return `link ${b.verdict}${b.uplink ? ` (${b.uplink})` : ''}${b.reasons.length ? `: ${b.reasons.join(' ')}` : ''}`;
}

/** `linkward check`: never measures, only reads the daemon's latest verdict. 0 healthy, 1 degraded, 2 down/unknown, 3 unreachable. */
export async function checkCommand(o: CheckOptions, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const q = queryFromOptions(o);
  const r = await fetchVerdict(await daemonTarget(o, { token: false }), q);
  if ('unreachable' in r) {
    if (o.json) out.write(JSON.stringify({ ok: false, verdict: null, error: r.unreachable }) + '\n');
    err.write(`linkward check: ${r.unreachable}\n`);
    return r.usage ? Exit.DOWN : Exit.UNREACHABLE;
  }
  out.write(o.json ? JSON.stringify(r.body) + '\n' : describe(r.body) + '\n');
  return exitForHealth(r.body.verdict);
}

export interface WaitOptions extends CheckOptions {
  until: 'healthy' | 'degraded';
  timeoutMs: number;
  intervalMs: number;
}

/** True when `verdict` satisfies `--until` (degraded means "at least degraded": usable). */
export function reached(verdict: LinkHealth, until: WaitOptions['until']): boolean {
  return verdict === 'healthy' || (until === 'degraded' && verdict === 'degraded');
}

/** `linkward wait`: polls until the verdict is reached (0) or the timeout passes (2; 3 if the daemon never answered); a late-starting daemon is tolerated. */
export async function waitCommand(o: WaitOptions, clock: Clock = systemClock, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const target = await daemonTarget(o, { token: false });
  const q = queryFromOptions(o);
  const deadline = clock.monoMs() + o.timeoutMs;
  let last = '';
  /** A timeout while the daemon never answered is "unreachable" (3, start it), not "not healthy in time" (2). */
  let everReached = false;
  // Bounded: every round waits intervalMs (> 0) and the loop ends at the deadline.
  for (;;) {
    const remaining = deadline - clock.monoMs();
    const r = await fetchVerdict(target, q, Math.max(1, Math.floor(Math.min(CLI_REQUEST_TIMEOUT_MS, remaining))));
    if ('body' in r) everReached = true;
    if ('body' in r && reached(r.body.verdict, o.until)) {
      err.write(`linkward wait: ${describe(r.body)}\n`);
      return Exit.OK;
    }
    if ('unreachable' in r && r.usage) {
      err.write(`linkward wait: ${r.unreachable}\n`);
      return Exit.DOWN;
    }
    const line = 'body' in r ? describe(r.body) : `waiting for the daemon: ${r.unreachable}`;
    if (line !== last) err.write(`linkward wait: ${line}\n`);
    last = line;
    const left = deadline - clock.monoMs();
    if (left <= 0) {
      err.write(
        `linkward wait: timed out after ${Math.round(o.timeoutMs / 1000)}s waiting for ${o.until}${everReached ? '' : ' (the daemon never answered)'}\n`,
      );
      return everReached ? Exit.DOWN : Exit.UNREACHABLE;
    }
    await clock.sleep(Math.ceil(Math.min(o.intervalMs, left)));
  }
}

function withCheckOptions(cmd: Command): Command {
  return withDaemonOptions(cmd)
    .option('--min-down <mbps>', 'also require download ≥ MBPS (from the latest measurement)', nonNegative)
    .option('--min-up <mbps>', 'also require upload ≥ MBPS', nonNegative)
    .option('--max-rtt <ms>', 'also require RTT p95 ≤ MS', nonNegative)
    .option('--max-loss <percent>', 'also require loss ≤ PERCENT', nonNegative)
    .option('--max-age <seconds>', 'the latest measurement must be at most SECONDS old', nonNegative)
    .option('--uplink <name>', 'check this uplink instead of the one the node follows');
}

export function registerLinkCommands(program: Command): void {
  withCheckOptions(
    program
      .command('check')
      .description('Exit 0 when the link is healthy, 1 degraded, 2 down/unknown, 3 daemon unreachable (reads the latest results; never runs a speed test)'),
  )
    .option('--json', 'print the verdict as JSON')
    .action(async (o: CheckOptions, cmd: Command) => {
      process.exitCode = await checkCommand({ ...o, config: cmd.optsWithGlobals<{ config?: string }>().config });
    });
  withCheckOptions(program.command('wait').description('Wait until the link is healthy (for init containers); exit 0 when reached, 2 on timeout'))
    .addOption(
      new Option('--until <state>', 'target state: healthy, or degraded (meaning healthy or degraded)').choices(['healthy', 'degraded']).default('healthy'),
    )
    .option('--timeout <duration>', 'give up after this long, e.g. 90s, 10m (default: 10m)', parseDuration)
    .option('--interval <duration>', 'poll interval (default: 2s)', parseDuration)
    .action(async (o: CheckOptions & { until: WaitOptions['until']; timeout?: number; interval?: number }, cmd: Command) => {
      const timeoutMs = o.timeout ?? WAIT_DEFAULT_TIMEOUT_MS;
      const intervalMs = Math.max(100, o.interval ?? WAIT_POLL_INTERVAL_MS);
      process.exitCode = await waitCommand({ ...o, until: o.until, timeoutMs, intervalMs, config: cmd.optsWithGlobals<{ config?: string }>().config });
    });
}
