/** `linkward buffer stats|list|flush|dead-letters|replay|salvage|purge`: inspect and steer the daemon's telemetry buffer. */
import { resolve as resolvePath } from 'node:path';
import type { Command } from 'commander';
import { isLwError, messageOf } from '../base/errors.ts';
import { Exit, exitForError, exitForStatus } from './exit-codes.ts';
import { daemonGet, daemonPost, daemonTarget, type DaemonOptions } from './client.ts';
import { withDaemonOptions } from './status.ts';

interface Common extends DaemonOptions {
  json?: boolean;
}

interface Lane {
  sink: string;
  priority: string;
  records: number;
  bytes: number;
  oldestAgeSeconds: number | null;
}
interface SinkStat {
  sink: string;
  attempts: number;
  backoffMs: number;
  lastStatus: number | null;
  lastError: string | null;
  sentBatches: number;
  /** Absent from daemons older than this CLI. */
  ackPendingAttempts?: number;
  lastStepError?: string | null;
}
interface Stats {
  available: boolean;
  error?: string;
  usage: { records: number; bytes: number };
  gate: { mode: string; reason: string };
  lanes: Lane[];
  sinks: SinkStat[];
  deadLetters: number;
  backlogWarnings?: { message: string }[];
  lostRecords?: { reason: string; records: number; expected: number; present: number }[];
  salvaged?: { file: string; copied: number; unreadable: number };
}

/** Human-readable byte count. */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** Formats rows as aligned columns. */
export function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string =>
    r
      .map((c, i) => c.padEnd(w[i]!))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n') + '\n';
}

export function formatStats(s: Stats): string {
  if (!s.available) return `buffer unavailable: ${s.error ?? 'unknown error'}\n`;
  let out = `buffer: ${s.usage.records} records, ${bytes(s.usage.bytes)}; gate ${s.gate.mode} (${s.gate.reason}); dead letters ${s.deadLetters}\n\n`;
  out +=
    s.lanes.length === 0
      ? 'no records waiting\n'
      : table(
          ['SINK', 'PRIORITY', 'RECORDS', 'BYTES', 'OLDEST'],
          s.lanes.map((l) => [l.sink, l.priority, String(l.records), bytes(l.bytes), l.oldestAgeSeconds === null ? '-' : `${Math.round(l.oldestAgeSeconds)}s`]),
        );
  out +=
    '\n' +
    table(
      ['SINK', 'SENT', 'FAILING', 'BACKOFF', 'LAST'],
      s.sinks.map((k) => [
        k.sink,
        String(k.sentBatches),
        String(k.attempts),
        k.backoffMs > 0 ? `${Math.ceil(k.backoffMs / 1000)}s` : '-',
        k.lastError ?? (k.lastStatus === null ? '-' : String(k.lastStatus)),
      ]),
    );
  for (const k of s.sinks.filter((x) => x.lastStepError))
    out += `\nwarning: sink ${k.sink}: ${k.ackPendingAttempts ? `sent batch not yet recorded (${k.ackPendingAttempts} tries): ` : ''}${k.lastStepError}`;
  for (const w of s.backlogWarnings ?? []) out += `\nwarning: ${w.message}`;
  for (const l of s.lostRecords ?? [])
    out += `\nLOST: ${l.records} acknowledged record(s) missing at start (${l.reason}; expected ${l.expected}, found ${l.present})`;
  if (s.salvaged)
    out += `\nsalvaged ${s.salvaged.copied} record(s) from ${s.salvaged.file}${s.salvaged.unreadable > 0 ? ` (${s.salvaged.unreadable} unreadable)` : ''}`;
  return out.endsWith('\n') ? out : `${out}\n`;
}

/** Runs one daemon call, prints JSON or text, returns the exit code. */
async function call<B>(o: Common, cmd: Command, fn: (o: Common) => Promise<{ status: number; body: unknown }>, text: (body: B) => string): Promise<number> {
  const opts = { ...o, config: cmd.optsWithGlobals<{ config?: string }>().config };
  try {
    const r = await fn(opts);
    if (r.status >= 400) {
      const err = (r.body as { error?: { message?: string } } | null)?.error?.message ?? `daemon answered ${r.status}`;
      if (o.json) process.stdout.write(JSON.stringify(r.body, null, 2) + '\n');
      else process.stderr.write(`linkward buffer: ${err}\n`);
      return exitForStatus(r.status);
    }
    process.stdout.write(o.json ? JSON.stringify(r.body, null, 2) + '\n' : text(r.body as B));
    return Exit.OK;
  } catch (e) {
    process.stderr.write(`linkward buffer: ${isLwError(e) ? e.message : messageOf(e)}\n`);
    return exitForError(e);
  }
}

function sub(parent: Command, name: string, description: string): Command {
  return withDaemonOptions(parent.command(name).description(description)).option('--json', "print the daemon's answer as JSON");
}

const q = (params: Record<string, string | undefined>): string => {
  const s = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined)).toString();
  return s ? `?${s}` : '';
};

export function registerBufferCommands(program: Command): void {
  const buffer = program.command('buffer').description('Inspect and steer the store-and-forward telemetry buffer of the running daemon');
  const run = (p: Promise<number>): Promise<void> =>
    p.then((c) => {
      process.exitCode = c;
    });

  sub(buffer, 'stats', 'Depth per sink and priority, gate state, upstream health').action((o: Common, cmd: Command) =>
    run(
      call(
        o,
        cmd,
        async (x) => daemonGet(await daemonTarget(x), '/v1/buffer/stats'),
        (b: Stats) => formatStats(b),
      ),
    ),
  );

  sub(buffer, 'list', 'Oldest waiting records')
    .option('--sink <name>', 'only this sink')
    .option('--limit <n>', 'how many (default 50)')
    .action((o: Common & { sink?: string; limit?: string }, cmd: Command) =>
      run(
        call(
          o,
          cmd,
          async (x) => daemonGet(await daemonTarget(x), '/v1/buffer/records' + q({ sink: o.sink, limit: o.limit })),
          (b: { records: { id: number; sink: string; priority: string; createdMs: number; bytes: number; batchId: string | null; preview: string }[] }) =>
            b.records.length === 0
              ? 'no records waiting\n'
              : table(
                  ['ID', 'SINK', 'PRIORITY', 'AGE', 'BYTES', 'SEALED', 'PREVIEW'],
                  b.records.map((r) => [
                    String(r.id),
                    r.sink,
                    r.priority,
                    `${Math.round((Date.now() - r.createdMs) / 1000)}s`,
                    bytes(r.bytes),
                    r.batchId ? 'yes' : 'no',
                    r.preview.replace(/\s+/g, ' ').slice(0, 60),
                  ]),
                ),
        ),
      ),
    );

  sub(buffer, 'flush', 'Retry now: clear backoff (and with --force ignore the link gate and pacing)')
    .option('--sink <name>', 'only this sink')
    .option('--force', 'send even if the link is down or degraded')
    .action((o: Common & { sink?: string; force?: boolean }, cmd: Command) =>
      run(
        call(
          o,
          cmd,
          async (x) => daemonPost(await daemonTarget(x), '/v1/buffer/flush', { sink: o.sink, force: o.force === true }),
          (b: { flushed: string[] }) => `flushing: ${b.flushed.join(', ') || 'no sinks'}\n`,
        ),
      ),
    );

  sub(buffer, 'dead-letters', 'Batches the upstream refused permanently')
    .option('--limit <n>', 'how many (default 50)')
    .action((o: Common & { limit?: string }, cmd: Command) =>
      run(
        call(
          o,
          cmd,
          async (x) => daemonGet(await daemonTarget(x), '/v1/buffer/dead-letters' + q({ limit: o.limit })),
          (b: { deadLetters: { id: string; sink: string; failedMs: number; status: number | null; reason: string; records: number; bytes: number }[] }) =>
            b.deadLetters.length === 0
              ? 'no dead letters\n'
              : table(
                  ['ID', 'SINK', 'FAILED', 'STATUS', 'RECORDS', 'BYTES', 'REASON'],
                  b.deadLetters.map((d) => [
                    d.id,
                    d.sink,
                    new Date(d.failedMs).toISOString(),
                    String(d.status ?? '-'),
                    String(d.records),
                    bytes(d.bytes),
                    d.reason.slice(0, 60),
                  ]),
                ),
        ),
      ),
    );

  sub(buffer, 'replay', 'Put dead letters back in the queue (after fixing the cause)')
    .argument('[ids...]', 'dead-letter ids (see dead-letters)')
    .option('--all', 'replay every dead letter')
    .action((ids: string[], o: Common & { all?: boolean }, cmd: Command) => {
      if (ids.length === 0 && !o.all) {
        process.stderr.write('linkward buffer replay: give dead-letter ids or --all\n');
        process.exitCode = Exit.DOWN;
        return;
      }
      return run(
        call(
          o,
          cmd,
          async (x) => daemonPost(await daemonTarget(x), '/v1/buffer/replay', { ids: o.all ? null : ids }),
          (b: { replayed: number; records?: number }) => `replayed ${b.replayed} dead letter(s) as ${b.records ?? b.replayed} record(s)\n`,
        ),
      );
    });

  sub(buffer, 'salvage', "Copy the readable records of a damaged buffer file (e.g. buffer.db.corrupt-<ms>) into the daemon's buffer")
    .argument('<file>', 'path of the file on the daemon host')
    .action((file: string, o: Common, cmd: Command) =>
      run(
        call(
          o,
          cmd,
          async (x) => daemonPost(await daemonTarget(x), '/v1/buffer/salvage', { file: resolvePath(file) }),
          (b: { copied: number; unreadable: number; error: string | null }) =>
            `salvaged ${b.copied} record(s)${b.unreadable > 0 ? `; ${b.unreadable} row(s) unreadable` : ''}${b.error ? `; ${b.error}` : ''}\n`,
        ),
      ),
    );

  sub(buffer, 'purge', 'Delete waiting records (counted as dropped, reason purged); needs --yes')
    .option('--sink <name>', 'only this sink')
    .option('--dead-letters', 'also delete the dead letters')
    .option('--yes', 'really delete')
    .action((o: Common & { sink?: string; deadLetters?: boolean; yes?: boolean }, cmd: Command) => {
      if (!o.yes) {
        process.stderr.write('linkward buffer purge deletes telemetry that was never delivered; add --yes to confirm\n');
        process.exitCode = Exit.DOWN;
        return;
      }
      return run(
        call(
          o,
          cmd,
          async (x) => daemonPost(await daemonTarget(x), '/v1/buffer/purge', { sink: o.sink, deadLetters: o.deadLetters === true }),
          (b: { records: number; deadLetters: number }) => `purged ${b.records} record(s), ${b.deadLetters} dead letter(s)\n`,
        ),
      );
    });
}
