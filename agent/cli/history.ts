/** `linkward history [--since 6h] [--json]`: the daemon's stored history as sparklines and a list of events, in local time. */
import type { Command } from 'commander';
import { daemonGet, daemonTarget, type DaemonOptions } from './client.ts';
import { withDaemonOptions } from './status.ts';
import { Exit } from './exit-codes.ts';
import { isLwError } from '../base/errors.ts';
import { parseSince, type Bucket } from '../history/downsample.ts';
import type { HistoryDoc } from '../history/query.ts';
import { sparkline } from '../history/sparkline.ts';

/** Sparkline columns: fits a 100-column terminal after the 26-column label and the range. */
const SPARK_WIDTH = 48;
/** Events printed (newest last, like a log); `--json` has them all. */
const EVENTS_PRINTED = 30;

const TIME = new Intl.DateTimeFormat('en-GB', { month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' });

function fig(v: number): string {
  return String(Math.abs(v) >= 100 ? Math.round(v) : Math.round(v * 10) / 10);
}

/** "wan  delay ms     ▁▂▃▅  28–359, last 31" */
function seriesLine(label: string, b: readonly Bucket[], doc: HistoryDoc): string {
  const head = label.padEnd(26);
  if (b.length === 0) return `${head}${' '.repeat(SPARK_WIDTH)}  no data`;
  const lo = Math.min(...b.map((x) => x.min));
  const hi = Math.max(...b.map((x) => x.max));
  return `${head}${sparkline(b, doc.sinceMs, doc.untilMs, SPARK_WIDTH)}  ${fig(lo)}–${fig(hi)}, last ${fig((b.at(-1) as Bucket).avg)}`;
}

/** The human form of a history document (times in this machine's time zone). */
export function formatHistory(doc: HistoryDoc): string {
  const hours = Math.round(((doc.untilMs - doc.sinceMs) / 3_600_000) * 10) / 10;
  const lines = [
    `history of the last ${hours} h: ${TIME.format(doc.sinceMs)} → ${TIME.format(doc.untilMs)} (${Math.round(doc.bucketMs / 60_000)}-min buckets)`,
  ];
  for (const [name, u] of Object.entries(doc.uplinks)) {
    const s = u.series;
    lines.push(
      seriesLine(`${name}  download Mbit/s`, s.downloadMbps, doc),
      seriesLine(`${name}  upload Mbit/s`, s.uploadMbps, doc),
      seriesLine(`${name}  delay ms`, s.rttMs, doc),
      seriesLine(`${name}  under load ms`, s.loadedRttMs, doc),
      seriesLine(`${name}  lost %`, s.lossPercent, doc),
    );
    if (u.voidSamples > 0) lines.push(`${' '.repeat(26)}(${u.voidSamples} samples set aside: the agent could not vouch for them)`);
  }
  if (doc.buffer.length > 0) {
    const records = doc.buffer.map((b) => ({ t: b.t, min: b.records, avg: b.records, max: b.records, n: 1 }));
    const ages = doc.buffer
      .filter((b) => b.oldestAgeS !== null)
      .map((b) => ({ t: b.t, min: (b.oldestAgeS as number) / 60, avg: (b.oldestAgeS as number) / 60, max: (b.oldestAgeS as number) / 60, n: 1 }));
    lines.push(seriesLine('buffer  records waiting', records, doc), seriesLine('buffer  oldest min', ages, doc));
  }
  const events = [
    ...doc.transitions.map((t) => ({
      atMs: t.atMs,
      text: `${t.uplink ?? 'node'}: ${t.from} → ${t.to}${t.reasons.length ? ` (${t.reasons.join(', ')})` : ''}`,
    })),
    ...doc.failovers.map((f) => ({ atMs: f.atMs, text: `route: ${f.from ?? '—'} → ${f.to} (${f.reason}, ${f.result})` })),
    ...doc.nodeActions.map((a) => ({ atMs: a.atMs, text: `k8s node: ${a.summary}` })),
  ].sort((a, b) => a.atMs - b.atMs);
  lines.push(
    events.length === 0 ? 'events: none' : `events${events.length > EVENTS_PRINTED ? ` (last ${EVENTS_PRINTED} of ${events.length}; --json for all)` : ''}:`,
  );
  for (const e of events.slice(-EVENTS_PRINTED)) lines.push(`  ${TIME.format(e.atMs)}  ${e.text}`);
  return lines.join('\n') + '\n';
}

export async function historyCommand(opts: DaemonOptions & { since?: string; json?: boolean }): Promise<number> {
  const since = opts.since ?? '24h';
  if (parseSince(since) === null) {
    process.stderr.write(`--since ${since} is not a duration such as 6h, 90m or 2d\n`);
    return Exit.DOWN; // usage error (exit-code table: 2)
  }
  try {
    const r = await daemonGet<HistoryDoc & { error?: { message?: string } }>(await daemonTarget(opts), `/v1/history?since=${encodeURIComponent(since)}`);
    if (r.status === 401) {
      process.stderr.write('the daemon requires a token: pass --token or set LINKWARD_TOKEN (or server.token in the config)\n');
      return Exit.UNREACHABLE;
    }
    if (r.status === 400) {
      process.stderr.write(`${r.body.error?.message ?? 'bad request'}\n`);
      return Exit.DOWN;
    }
    if (r.status !== 200) {
      process.stderr.write(`daemon answered ${r.status}${r.status === 404 ? ' (a daemon older than /v1/history?)' : ''}\n`);
      return Exit.UNREACHABLE;
    }
    process.stdout.write(opts.json ? JSON.stringify(r.body, null, 2) + '\n' : formatHistory(r.body));
    return Exit.OK;
  } catch (e) {
    process.stderr.write(`${isLwError(e) ? e.message : String(e)}\n`);
    return Exit.UNREACHABLE;
  }
}

export function registerHistoryCommand(program: Command): void {
  withDaemonOptions(
    program
      .command('history')
      .description('Show what the link did: throughput, delay, loss, buffer, state changes, failovers, node actions (exit 3: daemon unreachable)'),
  )
    .option('--since <duration>', 'how far back: 6h, 90m, 2d (at most 48h)', '24h')
    .option('--json', 'print the /v1/history document as JSON')
    .action(async (o: { since?: string; json?: boolean; address?: string; token?: string }, cmd: Command) => {
      process.exitCode = await historyCommand({ ...o, config: cmd.optsWithGlobals<{ config?: string }>().config });
    });
}
