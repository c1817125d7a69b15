/** `linkward status [--json]`: asks the running daemon and prints a summary; exit code says the link state. */
import type { Command } from 'commander';
import { daemonGet, daemonTarget, type DaemonOptions } from './client.ts';
import { Exit, exitForError, exitForStatus } from './exit-codes.ts';
import { isLwError } from '../base/errors.ts';
import type { BudgetStatus, LinkSnapshot, UplinkView } from '../core/types.ts';
import { fmt } from '../core/fmt.ts';
import { systemClock } from '../base/clock.ts';

export interface StatusDoc {
  version: string;
  node: string;
  uptimeSeconds: number;
  ready: boolean;
  notReadyReasons: string[];
  /** The daemon's clock when it answered (ms since epoch): ages are computed against it, so a skewed CLI clock does not distort them. */
  nowMs?: number;
  link: LinkSnapshot | null;
  components: Record<string, { state: string; message?: string; details?: Record<string, unknown> }>;
}

/** Exit code for a node link state: 0 healthy, 1 degraded, 2 down or unknown. */
export function exitForHealth(health: string | undefined): number {
  if (health === 'healthy') return Exit.OK;
  if (health === 'degraded') return Exit.DEGRADED;
  return Exit.DOWN;
}

/** The summary is read in terminals of 100 columns: longer lines are wrapped under their indent. */
const WIDTH = 100;
/** A figure younger than this is "now": its age is not printed. */
const SHOW_AGE_AFTER_MS = 60_000;
/** Indent of the lines under an uplink's first line (below its figures, past the name and state columns). */
const DETAIL = ' '.repeat(25);
/** Indent of measurement notes: less than the figures, so a warning stands out and has room. */
const NOTE = ' '.repeat(4);
const BYTES_PER_MB = 1_000_000;

function num(v: number | undefined, unit: string): string {
  return v === undefined ? '—' : `${Math.round(v * 10) / 10}${unit}`;
}

/** "45 s", "12 min", "2 h 5 min", "11 h", "3 d 4 h" (never negative: a skewed clock reads as 0). */
export function span(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h >= 48) return `${Math.floor(h / 24)} d ${h % 24} h`;
  return h < 10 && min % 60 > 0 ? `${h} h ${min % 60} min` : `${h} h`;
}

/** " (12 min ago)" for a figure older than a minute, else "". */
function age(atMs: number | undefined, nowMs: number): string {
  return atMs !== undefined && nowMs - atMs > SHOW_AGE_AFTER_MS ? ` (${span(nowMs - atMs)} ago)` : '';
}

function mb(bytes: number): string {
  return fmt(bytes / BYTES_PER_MB);
}

/** Download and upload with their ages (one age when both were measured together), lower bounds as "≥". */
function throughputText(u: UplinkView, nowMs: number): string {
  const l = u.latest;
  const at = u.measuredAtMs ?? {};
  if (l.downloadMbps === undefined && l.uploadMbps === undefined) return 'speed not measured';
  const fig = (label: string, v: number | undefined, bound: boolean | undefined): string =>
    v === undefined ? `${label} not measured` : `${label} ${bound === true ? '≥ ' : ''}${num(v, 'Mbps')}`;
  const down = fig('down', l.downloadMbps, l.downloadLowerBound);
  const up = fig('up', l.uploadMbps, l.uploadLowerBound);
  const downAge = l.downloadMbps === undefined ? '' : age(at.downloadMbps, nowMs);
  const upAge = l.uploadMbps === undefined ? '' : age(at.uploadMbps, nowMs);
  return downAge === upAge ? `${down}  ${up}${upAge}` : `${down}${downAge}  ${up}${upAge}`;
}

/** RTT, jitter and loss from the light probes, with the age of the RTT when it is old. */
function lightText(u: UplinkView, nowMs: number): string {
  const l = u.latest;
  const at = u.measuredAtMs ?? {};
  if (l.rttMs === undefined && l.lossPercent === undefined && l.jitterMs === undefined) return 'rtt not measured';
  const parts = [l.rttMs === undefined ? 'rtt — (no reply)' : `rtt ${num(l.rttMs, 'ms')}`];
  if (l.jitterMs !== undefined) parts.push(`jitter ${num(l.jitterMs, 'ms')}`);
  if (l.lossPercent !== undefined) parts.push(`loss ${num(l.lossPercent, '%')}`);
  return parts.join('  ') + age(at.rttMs ?? at.lossPercent, nowMs);
}

/** "rtt 12ms idle / 180ms loaded (330 RPM)" from the last throughput test, or null when it measured no loaded RTT. */
function loadedText(u: UplinkView, nowMs: number): string | null {
  const l = u.latest;
  if (l.loadedRttMs === undefined) return null;
  const rpm = l.responsivenessRpm ?? (l.loadedRttMs > 0 ? 60_000 / l.loadedRttMs : undefined);
  const idle = l.idleRttMs === undefined ? '' : `${num(l.idleRttMs, 'ms')} idle / `;
  const at = u.measuredAtMs?.loadedRttMs ?? u.measuredAtMs?.idleRttMs;
  return `rtt ${idle}${num(l.loadedRttMs, 'ms')} loaded${rpm === undefined ? '' : ` (${Math.round(rpm)} RPM)`}${age(at, nowMs)}`;
}

/** "budget 3.1 of 50 MB left, resets 00:00 UTC in 5 h" or "budget spent (50 MB), resets …". */
function budgetText(b: BudgetStatus, nowMs: number): string {
  const reset = new Date(b.resetAtMs);
  const when = `resets ${String(reset.getUTCHours()).padStart(2, '0')}:${String(reset.getUTCMinutes()).padStart(2, '0')} UTC in ${span(b.resetAtMs - nowMs)}`;
  return b.spent
    ? `budget spent (${mb(b.usedBytes)} of ${mb(b.budgetBytes)} MB used), ${when}`
    : `budget ${mb(b.remainingBytes)} of ${mb(b.budgetBytes)} MB left, ${when}`;
}

/** `text` after `first`, or when too long its words (and `tail`, kept whole) on lines of at most WIDTH columns, the rest under `indent`. */
function wrap(first: string, indent: string, text: string, tail = ''): string[] {
  if (first.length + text.length + tail.length <= WIDTH) return [first + text + tail];
  const words = [...text.split(' ').filter((w) => w !== ''), ...(tail.trim() === '' ? [] : [tail.trim()])];
  const lines: string[] = [];
  let cur = first;
  let empty = true;
  for (const word of words) {
    if (!empty && cur.length + 1 + word.length > WIDTH) {
      lines.push(cur);
      cur = indent + word;
    } else {
      cur += (empty ? '' : ' ') + word;
    }
    empty = false;
  }
  lines.push(cur);
  return lines;
}

/** The lines of one uplink: state and speeds, light figures, loaded latency, budget, reasons, notes. */
function uplinkLines(u: UplinkView, nowMs: number): string[] {
  const lines = wrap(`  ${u.name.padEnd(12)} ${u.health.padEnd(9)} `, DETAIL, throughputText(u, nowMs));
  lines.push(DETAIL + lightText(u, nowMs));
  const loaded = loadedText(u, nowMs);
  if (loaded !== null) lines.push(DETAIL + loaded);
  if (u.budget) lines.push(DETAIL + budgetText(u.budget, nowMs));
  if (u.reasons.length > 0) lines.push(...wrap(`${DETAIL}why: `, `${DETAIL}     `, u.reasons.join(' ')));
  for (const n of u.notes ?? []) {
    const since = nowMs - n.sinceMs > SHOW_AGE_AFTER_MS ? ` (for ${span(nowMs - n.sinceMs)})` : '';
    lines.push(...wrap(`${NOTE}! `, `${NOTE}  `, n.message, since));
  }
  return lines;
}

/** Human summary of a status document; `nowMs` (the CLI's clock) is used only when the document carries no time of its own. */
/** `telemetry: 1,204 records waiting (412 kB), oldest 6 min` from the buffer component's details; null without a buffer. */
export function backlogLine(details: Record<string, unknown> | undefined): string | null {
  const usage = details?.usage as { records?: unknown; bytes?: unknown } | undefined;
  if (!usage || typeof usage.records !== 'number') return null;
  if (usage.records === 0) return 'telemetry: nothing waiting';
  const lanes = Array.isArray(details?.lanes) ? (details.lanes as { oldestAgeSeconds?: unknown }[]) : [];
  const oldest = Math.max(0, ...lanes.map((l) => (typeof l.oldestAgeSeconds === 'number' ? l.oldestAgeSeconds : 0)));
  const kb = typeof usage.bytes === 'number' ? ` (${Math.round(usage.bytes / 1000).toLocaleString('en')} kB)` : '';
  const age = oldest >= 3600 ? `${(oldest / 3600).toFixed(1)} h` : oldest >= 60 ? `${Math.round(oldest / 60)} min` : `${Math.round(oldest)} s`;
  return `telemetry: ${usage.records.toLocaleString('en')} records waiting${kb}, oldest ${age}`;
}

export function formatStatus(s: StatusDoc, nowMs: number): string {
  const now = typeof s.nowMs === 'number' ? s.nowMs : nowMs;
  const lines = [`linkward ${s.version} on ${s.node} — up ${s.uptimeSeconds}s, ${s.ready ? 'ready' : `not ready (${s.notReadyReasons.join('; ')})`}`];
  const link = s.link;
  lines.push(`link: ${link?.node ?? 'unknown'}${link?.active ? ` (active uplink ${link.active})` : ''}${link ? '' : ' — no completed measurement yet'}`);
  for (const u of Object.values(link?.uplinks ?? {})) lines.push(...uplinkLines(u, now));
  const backlog = backlogLine(s.components.buffer?.details);
  if (backlog) lines.push(backlog);
  lines.push('components:');
  for (const [name, c] of Object.entries(s.components)) lines.push(`  ${name.padEnd(12)} ${c.state.padEnd(9)} ${c.message ?? ''}`.trimEnd());
  return lines.join('\n') + '\n';
}

export async function statusCommand(opts: DaemonOptions & { json?: boolean }): Promise<number> {
  let doc: StatusDoc;
  try {
    const r = await daemonGet<StatusDoc>(await daemonTarget(opts), '/v1/status');
    if (r.status === 401) {
      process.stderr.write('the daemon requires a token: pass --token or set LINKWARD_TOKEN (or server.token in the config)\n');
      return exitForStatus(r.status);
    }
    if (r.status !== 200) {
      process.stderr.write(`daemon answered ${r.status}\n`);
      return r.status >= 500 ? Exit.UNREACHABLE : exitForStatus(r.status);
    }
    doc = r.body;
  } catch (e) {
    process.stderr.write(`${isLwError(e) ? e.message : String(e)}\n`);
    return exitForError(e);
  }
  process.stdout.write(opts.json ? JSON.stringify(doc, null, 2) + '\n' : formatStatus(doc, doc.nowMs ?? systemClock.nowMs()));
  return exitForHealth(doc.link?.node);
}

/** Adds the options every daemon-talking command shares. */
export function withDaemonOptions(cmd: Command): Command {
  return cmd
    .option('--address <host:port>', 'daemon address (default: server.listen from the config)')
    .option('--token <token>', 'bearer token (default: $LINKWARD_TOKEN or server.token)');
}

export function registerStatusCommand(program: Command): void {
  withDaemonOptions(program.command('status').description("Show the running daemon's state; exit 0 healthy, 1 degraded, 2 down/unknown, 3 daemon unreachable"))
    .option('--json', 'print the full status document as JSON')
    .option('--watch', 'keep watching: redrawn in place with sparklines on a terminal, one line per poll otherwise; Ctrl-C stops (exit 0)')
    .option('--interval <seconds>', 'poll period of --watch', '2')
    .action(async (o: { json?: boolean; watch?: boolean; interval?: string; address?: string; token?: string }, cmd: Command) => {
      const config = cmd.optsWithGlobals<{ config?: string }>().config;
      if (o.watch) {
        // --watch lives in status-watch.ts (loaded only when asked for). Exit as soon as it stops: a poll still in
        // flight to a busy daemon must not hold Ctrl-C for its 5 s timeout.
        process.exit(await (await import('./status-watch.ts')).watchCommand({ ...o, config }));
      }
      process.exitCode = await statusCommand({ ...o, config });
    });
}
