/** `linkward status --watch`: polls the daemon; on a terminal redraws the summary in place with sparklines, otherwise appends one plain line per poll. */
import { daemonGet, daemonTarget, type DaemonOptions, type DaemonTarget } from './client.ts';
import { formatStatus, type StatusDoc } from './status.ts';
import { Exit } from './exit-codes.ts';
import { ErrorCode, LwError, messageOf } from '../base/errors.ts';
import type { HistoryDoc } from '../history/query.ts';
import { sparkline } from '../history/sparkline.ts';

/** Default poll period: the light probes run every few seconds, faster polling shows nothing new. */
export const WATCH_INTERVAL_MS = 2_000;
/** The sparklines' history (the last hour, 1-minute buckets) is re-read this often: stored light results arrive once a minute. */
const SPARK_REFRESH_MS = 30_000;
const SPARK_WINDOW = '1h';
const SPARK_WIDTH = 60;

/** ANSI: cursor home, clear to end of line, clear below, hide and show the cursor. */
const HOME = '\x1b[H';
const EOL = '\x1b[K';
const BELOW = '\x1b[J';
const HIDE = '\x1b[?25l';
const SHOW = '\x1b[?25h';

const CLOCK = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });

function fig(v: number | undefined): string {
  return v === undefined ? '—' : String(Math.round(v * 10) / 10);
}

/** One plain line per poll for logs and pipes: local time, node state, active uplink, each uplink's figures. */
export function watchLine(doc: StatusDoc, nowMs: number): string {
  const link = doc.link;
  const ups = Object.values(link?.uplinks ?? {}).map(
    (u) => `${u.name}=${u.health} rtt=${fig(u.latest.rttMs)}ms loss=${fig(u.latest.lossPercent)}% down=${fig(u.latest.downloadMbps)}Mbps`,
  );
  return [new Date(nowMs).toISOString(), `link=${link?.node ?? 'unknown'}`, `active=${link?.active ?? '—'}`, ...ups].join(' ');
}

/** The sparkline block under the summary: delay and loss per uplink over the last hour. */
export function sparkBlock(h: HistoryDoc | null): string[] {
  if (!h) return ['last hour: (history not available)'];
  const lines = [`last hour (${SPARK_WIDTH} min, oldest left):`];
  for (const [name, u] of Object.entries(h.uplinks)) {
    const rtt = u.series.rttMs;
    const loss = u.series.lossPercent;
    const range = (b: typeof rtt, unit: string): string =>
      b.length === 0 ? 'no data' : `${fig(Math.min(...b.map((x) => x.min)))}–${fig(Math.max(...b.map((x) => x.max)))} ${unit}`;
    lines.push(`  ${name.padEnd(12)} delay ${sparkline(rtt, h.sinceMs, h.untilMs, SPARK_WIDTH)} ${range(rtt, 'ms')}`);
    lines.push(`  ${''.padEnd(12)} loss  ${sparkline(loss, h.sinceMs, h.untilMs, SPARK_WIDTH, 100)} ${range(loss, '%')}`);
  }
  return lines;
}

/** Resolves after `ms`, or early when `signal` aborts (never rejects). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** `p`, or undefined as soon as `signal` aborts (a request in flight must not hold Ctrl-C for its 5 s timeout). */
function orAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  return Promise.race([p, pause(2_147_483_647, signal).then(() => undefined)]);
}

export interface WatchIo {
  write(s: string): void;
  tty: boolean;
  /** Stop signal (Ctrl-C / SIGTERM in the CLI; tests abort it). */
  signal: AbortSignal;
  nowMs(): number;
}

/** The watch loop; returns 0 when stopped by the signal. Daemon errors are shown and retried, never fatal. */
export async function watchStatus(target: DaemonTarget, intervalMs: number, io: WatchIo): Promise<number> {
  let spark: HistoryDoc | null = null;
  let sparkAt = Number.NEGATIVE_INFINITY;
  if (io.tty) io.write(`${HIDE}\x1b[2J`);
  try {
    while (!io.signal.aborted) {
      const now = io.nowMs();
      let body: string;
      let doc: StatusDoc | undefined;
      try {
        const r = await orAbort(daemonGet<StatusDoc>(target, '/v1/status'), io.signal);
        if (r === undefined) break;
        if (r.status !== 200)
          throw new LwError(
            ErrorCode.DAEMON_BAD_RESPONSE,
            r.status === 401 ? 'the daemon requires a token (--token or LINKWARD_TOKEN)' : `daemon answered ${r.status}`,
          );
        doc = r.body;
        body = io.tty ? formatStatus(doc, doc.nowMs ?? now) : watchLine(doc, now);
      } catch (e) {
        body = io.tty
          ? `daemon not reachable: ${messageOf(e)}\n(retrying every ${intervalMs / 1000} s)\n`
          : `${new Date(now).toISOString()} daemon not reachable: ${messageOf(e)}`;
      }
      if (io.tty) {
        if (doc && now - sparkAt >= SPARK_REFRESH_MS) {
          const h = await orAbort(
            daemonGet<HistoryDoc>(target, `/v1/history?since=${SPARK_WINDOW}`).catch(() => null),
            io.signal,
          );
          spark = h && h.status === 200 ? h.body : null;
          sparkAt = now;
        }
        const lines = [
          ...body.trimEnd().split('\n'),
          '',
          ...sparkBlock(spark),
          '',
          `updated ${CLOCK.format(now)} · every ${intervalMs / 1000} s · Ctrl-C to stop`,
        ];
        io.write(HOME + lines.map((l) => l + EOL).join('\n') + '\n' + BELOW);
      } else io.write(body + '\n');
      await pause(intervalMs, io.signal);
    }
  } finally {
    if (io.tty) io.write(SHOW);
  }
  return Exit.OK;
}

/** CLI entry: Ctrl-C and SIGTERM stop the loop cleanly (terminal restored, exit 0). */
export async function watchCommand(opts: DaemonOptions & { interval?: string }): Promise<number> {
  const seconds = opts.interval === undefined ? WATCH_INTERVAL_MS / 1000 : Number(opts.interval);
  if (!(seconds >= 0.5 && seconds <= 3_600)) {
    process.stderr.write(`--interval ${opts.interval} must be a number of seconds from 0.5 to 3600\n`);
    return Exit.DOWN;
  }
  const target = await daemonTarget(opts);
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // the reader went away (`| head`, a closed terminal): stop quietly, as after Ctrl-C
  const onOutputError = (e: NodeJS.ErrnoException): void => {
    if (e.code === 'EPIPE' || e.code === 'EIO') stop.abort();
    else throw e;
  };
  process.stdout.on('error', onOutputError);
  try {
    return await watchStatus(target, seconds * 1000, {
      write: (s) => void (stop.signal.aborted && !process.stdout.writable ? undefined : process.stdout.write(s)),
      tty: process.stdout.isTTY === true,
      signal: stop.signal,
      nowMs: () => Date.now(),
    });
  } finally {
    process.stdout.off('error', onOutputError);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
