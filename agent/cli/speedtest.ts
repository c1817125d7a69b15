/** CLI: `linkward test` — runs a throughput test inside the running daemon (its uplinks, budget and server) with live progress. */
import type { Command } from 'commander';
import { daemonStream, daemonTarget, type DaemonOptions } from './client.ts';
import { withDaemonOptions } from './status.ts';
import { messageOf } from '../base/errors.ts';
import { Exit, exitForError, exitForStatus } from './exit-codes.ts';
import { fmtMbps } from './probe-report.ts';

/** A test is two directions of at most a few seconds each per uplink, plus queueing behind a running one: 2 min bounds it. */
const TEST_TIMEOUT_MS = 120_000;
/** Without a terminal, print the running figure at most this often (log files, CI). */
const PLAIN_PROGRESS_EVERY_MS = 1_000;

interface Figure {
  mbps?: number;
  lowerBound?: boolean;
  stalled?: boolean;
  stopReason?: string;
  bytesUsed?: number;
  latency?: { idleMs?: number; loadedMs?: number; rpm?: number };
}
interface Outcome {
  uplink: string;
  ran: boolean;
  skipped?: string;
  error?: string;
  download?: Figure;
  upload?: Figure;
  suspect?: { down?: string; up?: string };
}
interface Progress {
  uplink: string;
  direction: string;
  mbps: number;
  bytes: number;
  elapsedMs: number;
}

const SKIPPED: Record<string, string> = {
  budget: 'the data budget is spent',
  traffic: 'the link is busy with traffic',
  no_url: 'no speed-test server is configured (probes.throughput.url)',
  busy: 'a test is already running',
  disabled: 'speed tests are off (probes.throughput.enabled)',
  no_source: 'the uplink has no source address',
  stopped: 'the agent is stopping',
};

/** `≥ 54.2 Mbit/s (capped)`, the stop reason, and idle vs loaded RTT when measured. */
export function formatFigure(dir: string, f: Figure | undefined, suspect: string | undefined): string {
  if (!f) return `  ${dir}: not measured`;
  const tag = f.stalled ? ' (stalled)' : f.lowerBound ? ' (at least)' : '';
  const lat =
    f.latency?.loadedMs !== undefined
      ? `; rtt idle ${f.latency.idleMs?.toFixed(1) ?? 'n/a'} ms, loaded ${f.latency.loadedMs.toFixed(1)} ms${f.latency.rpm !== undefined ? `, RPM ${Math.round(f.latency.rpm)}` : ''}`
      : '';
  return `  ${dir}: ${f.lowerBound && f.mbps !== undefined ? '≥ ' : ''}${fmtMbps(f.mbps)}${tag} (${f.stopReason ?? '?'}, ${((f.bytesUsed ?? 0) / 1e6).toFixed(2)} MB)${lat}${suspect ? ` — not trusted: ${suspect}` : ''}`;
}

export function formatOutcome(o: Outcome): string {
  if (!o.ran) return `${o.uplink}: not run: ${SKIPPED[o.skipped ?? ''] ?? o.skipped ?? 'unknown'}${o.error ? ` (${o.error})` : ''}\n`;
  return [`${o.uplink}:`, formatFigure('download', o.download, o.suspect?.down), formatFigure('upload', o.upload, o.suspect?.up)].join('\n') + '\n';
}

async function testAction(o: DaemonOptions & { uplink?: string; download?: boolean; upload?: boolean; json?: boolean }, cmd: Command): Promise<void> {
  const opts = { ...o, config: cmd.optsWithGlobals<{ config?: string }>().config };
  const tty = process.stderr.isTTY === true && !o.json;
  const q = new URLSearchParams({ progress: '1' });
  if (o.uplink) q.set('uplink', o.uplink);
  if (o.download && !o.upload) q.set('upload', '0');
  if (o.upload && !o.download) q.set('download', '0');
  let results: Outcome[] | undefined;
  let error: string | undefined;
  let lastPlain = -Infinity;
  try {
    const status = await daemonStream(
      await daemonTarget(opts),
      `/v1/probes/throughput?${q.toString()}`,
      (line) => {
        if (line.progress) {
          const p = line.progress as Progress;
          const text = `${p.uplink} ${p.direction === 'down' ? 'download' : 'upload'} ${fmtMbps(p.mbps)}  ${(p.bytes / 1e6).toFixed(2)} MB  ${(p.elapsedMs / 1000).toFixed(1)} s`;
          if (tty) process.stderr.write(`\r\x1b[K${text}`);
          else if (!o.json && performance.now() - lastPlain >= PLAIN_PROGRESS_EVERY_MS) {
            lastPlain = performance.now();
            process.stderr.write(`${text}\n`);
          }
        } else if (Array.isArray(line.results)) results = line.results as Outcome[];
        else if (line.error) error = String((line.error as { message?: string }).message ?? JSON.stringify(line.error));
      },
      TEST_TIMEOUT_MS,
    );
    if (tty) process.stderr.write('\r\x1b[K');
    if (status >= 400) {
      process.stderr.write(`linkward test: ${error ?? `daemon answered ${status}`}\n`);
      process.exitCode = exitForStatus(status);
      return;
    }
  } catch (e) {
    process.stderr.write(`linkward test: ${messageOf(e)}\n`);
    process.exitCode = exitForError(e);
    return;
  }
  if (!results) {
    process.stderr.write('linkward test: the daemon ended the answer without results\n');
    process.exitCode = Exit.FAILURE;
    return;
  }
  process.stdout.write(o.json ? JSON.stringify({ results }, null, 2) + '\n' : results.map(formatOutcome).join(''));
  // 0 when every uplink asked for was measured; 1 when one could not be (skipped: budget, busy...) or the server failed
  process.exitCode = results.every((r) => r.ran && (r.download?.mbps !== undefined || r.upload?.mbps !== undefined)) ? Exit.OK : Exit.FAILURE;
}

export function registerSpeedtestCommand(program: Command): void {
  withDaemonOptions(program.command('test'))
    .description(
      'Run a throughput test now inside the running daemon (its uplinks, budget and server), with live progress; exit 0 measured, 1 not run or failed, 2 refused, 3 daemon unreachable',
    )
    .option('--uplink <name>', 'only this uplink (default: every uplink)')
    .option('--download', 'download only')
    .option('--upload', 'upload only')
    .option('--json', 'print the results as JSON')
    .action(testAction);
}
