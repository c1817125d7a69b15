/** CLI: `linkward probe` (one-off speed/latency test with live progress) and `linkward probe-server`. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { systemClock } from '../base/clock.ts';
import { lwCodeOf, LwError, messageOf } from '../base/errors.ts';
import { Exit, exitForError } from './exit-codes.ts';
import { splitHostPort } from '../base/host-port.ts';
import { loadConfig, resolveConfigPath } from '../config/load.ts';
import { effectiveUplinks } from '../config/uplinks.ts';
import { ProbeErrorCode } from '../../probes/errors.ts';
import { hostPort } from '../../probes/rtt-probers.ts';
import { resolveSources, sourceOfHost } from '../../probes/source.ts';
import { runThroughput, type Direction, type ThroughputResult } from '../../probes/throughput.ts';
import { DisturbanceWatch } from '../../probes/disturbance.ts';
import { runJudged } from '../../probes/uplink-throughput.ts';
import { threadCpu } from '../../probes/run-queue.ts';
import type { Preset } from '../../probes/presets.ts';
import { startProbeServer } from '../../probes/server.ts';
import { oneOffLatency } from '../../probes/oneoff.ts';

/** Default probe-server address: loopback (anything else needs a token). */
export const DEFAULT_PROBE_LISTEN = '127.0.0.1:9781';

interface ProbeOptions {
  target?: string;
  uplink?: string;
  download?: boolean;
  upload?: boolean;
  json?: boolean;
  config?: string;
  preset?: Preset;
  streams?: string;
  maxBytes?: string;
  token?: string;
}

/** Guesses the endpoint layout from a URL when --preset is not given. */
export function guessPreset(url: string, fallback: Preset): Preset {
  if (/garbage\.php|empty\.php|\/backend\/?$/.test(url)) return 'librespeed';
  if (/__down|__up|speed\.cloudflare\.com/.test(url)) return 'cloudflare';
  if (/\/linkward\/?/.test(url)) return 'linkward';
  return fallback;
}

function fmtMbps(v: number | undefined): string {
  return v === undefined ? 'n/a' : `${v.toFixed(v < 10 ? 2 : 1)} Mbit/s`;
}

function fmtBytes(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} MB` : `${(n / 1e3).toFixed(1)} kB`;
}

function fmtMs(v: number | undefined): string {
  return v === undefined ? 'n/a' : `${v.toFixed(1)} ms`;
}

/** `≥ 54.2 Mbit/s (capped)` for a lower bound, `(stalled)` when a TCP stall held it down; stop reason and bytes. */
export function fmtFigure(r: ThroughputResult | undefined): string {
  if (!r) return 'n/a';
  const note = r.stalled ? ' (stalled)' : r.lowerBound ? ' (capped)' : '';
  return `${r.lowerBound && r.mbps !== undefined ? '≥ ' : ''}${fmtMbps(r.mbps)}${note}  (${r.stopReason}, ${fmtBytes(r.bytesUsed)})`;
}

/** " — not trusted: …" after a figure this process could not vouch for (as `linkward test` prints the daemon's). */
function notTrusted(a: { reason: string; detail?: string } | undefined): string {
  return a ? ` — not trusted: ${a.detail ?? a.reason}` : '';
}

/** Idle vs loaded RTT of one direction and its responsiveness (RPM). */
export function fmtLatency(r: ThroughputResult): string {
  const l = r.latency;
  if (!l) return 'not measured';
  const rpm = l.rpm === undefined ? 'n/a' : String(Math.round(l.rpm));
  return `idle rtt ${fmtMs(l.idleMs)}, loaded ${fmtMs(l.loadedMs)} (${l.loadedSamples} answered, ${l.loadedLost} lost), RPM ${rpm}`;
}

function fail(e: unknown, json: boolean | undefined): never {
  const code = lwCodeOf(e);
  if (json) process.stdout.write(JSON.stringify({ error: { code, message: messageOf(e) } }) + '\n');
  else process.stderr.write(`error: ${messageOf(e)}\n`);
  process.exit(exitForError(e));
}

async function probeAction(o: ProbeOptions): Promise<void> {
  const loaded = loadConfig(resolveConfigPath(o.config));
  const pc = loaded.config.probes;
  const url = o.target ?? pc.throughput.url;
  if (!url)
    throw new LwError(
      ProbeErrorCode.NO_URL,
      'no throughput server: pass --target URL (e.g. http://HOST:9781/ of a `linkward probe-server`) or set probes.throughput.url',
    );
  const uplinks = effectiveUplinks(loaded.config.uplinks);
  const uplink = o.uplink ? uplinks.find((u) => u.name === o.uplink) : undefined;
  if (o.uplink && !uplink)
    throw new LwError(ProbeErrorCode.UNKNOWN_UPLINK, `no uplink named "${o.uplink}" in the config; known: ${uplinks.map((u) => u.name).join(', ')}`);
  const sources = uplink ? resolveSources(uplink) : undefined;
  const source = sources ? sourceOfHost(sources, hostPort(url).host) : {};
  if (source.problem) throw new LwError(ProbeErrorCode.NO_SOURCE, source.problem);
  const sourceAddress = source.address;
  const preset = o.preset ?? guessPreset(url, o.target ? 'linkward' : pc.throughput.preset);
  const token = o.token || process.env.LINKWARD_PROBE_TOKEN || pc.token;
  const both = !o.download && !o.upload;
  const dirs: Direction[] = [...(both || o.download ? (['down'] as const) : []), ...(both || o.upload ? (['up'] as const) : [])];
  const tty = process.stderr.isTTY === true;
  const latency = await oneOffLatency(url, preset, {
    clock: systemClock,
    timeoutMs: pc.timeoutMs,
    ...(sources?.v4.address ? { sourceAddress: sources.v4.address } : {}),
    ...(sources?.v6.address ? { sourceAddress6: sources.v6.address } : {}),
    ...(token ? { token } : {}),
  });
  if (latency.refused) {
    // an RST proves the path but not a server: no RTT from it, no throughput test, a non-zero exit
    throw new LwError(
      ProbeErrorCode.TARGET_REFUSED,
      `target refuses connections: no probe server at ${latency.host}:${latency.port} (the host answered with a reset in ${fmtMs(latency.refusedRttMs)}, so the path works; start \`linkward probe-server\` there or fix --target)`,
      { context: { host: latency.host, port: latency.port } },
    );
  }
  process.stderr.write(`target ${url} (${preset})${sourceAddress ? ` from ${sourceAddress}` : ''}  rtt ${fmtMs(latency.rttMs)}\n`);
  const results: Partial<Record<Direction, ThroughputResult>> = {};
  // The agent's own judgement of each figure: taken while this process was starved of CPU, CPU-bound or stalled, it is
  // only a lower bound and says so (the daemon sets such figures aside; an operator reading this one should know too).
  const setAside: Partial<Record<Direction, { reason: string; detail?: string }>> = {};
  const watch = new DisturbanceWatch(systemClock);
  for (const direction of dirs) {
    let lastLine = Number.NEGATIVE_INFINITY;
    const judged = await runJudged(
      {
        watch,
        warmup: false,
        allowance: () => 0,
        cpuMs: () => {
          const u = process.cpuUsage();
          return (u.user + u.system) / 1000;
        },
        loopCpu: threadCpu,
        monoMs: () => systemClock.monoMs(),
        run: (dir, maxBytes) =>
          runThroughput({
            url,
            preset,
            direction: dir,
            clock: systemClock,
            streams: o.streams ? Number(o.streams) : pc.throughput.streams,
            maxBytes,
            maxDurationMs: pc.throughput.maxDurationMs,
            minMeasureMs: pc.throughput.minMeasureMs,
            stableTolerance: pc.throughput.stableTolerance,
            ...(sourceAddress ? { sourceAddress } : {}),
            ...(token ? { token } : {}),
            ...(latency.rttMs !== undefined ? { rttHintMs: latency.rttMs } : {}),
            onProgress: (p) => {
              const line = `${dir === 'down' ? 'download' : 'upload  '} ${fmtMbps(p.mbps).padStart(14)}  ${fmtBytes(p.bytes).padStart(10)}  ${(p.elapsedMs / 1000).toFixed(1)} s`;
              if (tty) process.stderr.write(`\r${line}   `);
              else if (p.elapsedMs - lastLine >= 500) {
                lastLine = p.elapsedMs;
                process.stderr.write(line + '\n');
              }
            },
          }),
      },
      direction,
      o.maxBytes ? Number(o.maxBytes) : pc.throughput.maxBytes,
    );
    results[direction] = judged.result;
    if (judged.suspect) setAside[direction] = { reason: judged.suspect, ...(judged.detail ? { detail: judged.detail } : {}) };
    if (tty) process.stderr.write('\n');
  }
  const down = results.down;
  const up = results.up;
  const bytesUsed = (down?.bytesUsed ?? 0) + (up?.bytesUsed ?? 0) + latency.bytes;
  const summary = {
    downloadMbps: down?.mbps ?? null,
    uploadMbps: up?.mbps ?? null,
    rttMs: latency.rttMs ?? null,
    jitterMs: latency.jitterMs ?? null,
    lossPercent: latency.lossPercent ?? null,
    bytesUsed,
    target: url,
    preset,
    uplink: uplink?.name ?? null,
    sourceAddress: sourceAddress ?? null,
    downloadLowerBound: down?.lowerBound ?? null,
    uploadLowerBound: up?.lowerBound ?? null,
    /** Why a figure is not vouched for (starved, cpu_bound, stalled), with words; null when it is. */
    downloadSetAside: setAside.down ?? null,
    uploadSetAside: setAside.up ?? null,
    latencyUnderLoad: { download: down?.latency ?? null, upload: up?.latency ?? null },
    download: down ?? null,
    upload: up ?? null,
  };
  const errors = [...(down?.errors ?? []), ...(up?.errors ?? []), ...latency.errors];
  if (o.json) process.stdout.write(JSON.stringify(summary) + '\n');
  else {
    process.stdout.write(
      [
        `download  ${fmtFigure(down)}${notTrusted(setAside.down)}`,
        `upload    ${fmtFigure(up)}${notTrusted(setAside.up)}`,
        `rtt       ${fmtMs(latency.rttMs)}`,
        ...(down ? [`  under download load: ${fmtLatency(down)}`] : []),
        ...(up ? [`  under upload load:   ${fmtLatency(up)}`] : []),
        `jitter    ${latency.jitterMs === undefined ? 'n/a' : `${latency.jitterMs.toFixed(1)} ms`}`,
        `loss      ${latency.lossPercent === undefined ? 'n/a' : `${latency.lossPercent.toFixed(1)} %`}`,
        `bytes     ${fmtBytes(bytesUsed)} (not counted against the daemon's budget)`,
        ...errors.map((e) => `error     ${e}`),
      ].join('\n') + '\n',
    );
  }
  // the throughput server is unusable when any direction asked for produced no figure
  const unusable = dirs.some((d) => results[d]?.mbps === undefined);
  process.exitCode = unusable ? Exit.FAILURE : Exit.OK;
}

/** Splits HOST:PORT / [v6]:PORT. */
export function parseListen(s: string): { host: string; port: number } {
  const hp = splitHostPort(s);
  if (!hp) throw new LwError('LW_CONFIG_INVALID', `--listen must be HOST:PORT (e.g. ${DEFAULT_PROBE_LISTEN}), got "${s}"`);
  return hp;
}

/** Registers `probe` and `probe-server` on the root program. */
export function registerProbeCommands(program: Command): void {
  program
    .command('probe')
    .description('One-off speed test: download, upload, RTT, jitter, loss and bytes used (live progress on stderr).')
    .option('--target <url>', 'throughput server base URL (default: probes.throughput.url)')
    .option('--uplink <name>', "bind to this uplink's source address")
    .option('--download', 'measure download (default: both)')
    .option('--upload', 'measure upload (default: both)')
    .option('--preset <preset>', 'endpoint layout: linkward | librespeed | cloudflare (default: guessed from the URL)')
    .option('--streams <n>', 'parallel streams')
    .option('--max-bytes <n>', 'byte cap per direction')
    .option('--token <token>', 'probe-server token (default: $LINKWARD_PROBE_TOKEN, probes.token)')
    .option('--json', 'print one JSON object: downloadMbps, uploadMbps, rttMs, jitterMs, lossPercent, bytesUsed, ...')
    .option('-c, --config <path>', 'config file (default: $LINKWARD_CONFIG, else /etc/linkward/config.yaml)')
    .action(async (o: ProbeOptions, cmd: Command) => {
      try {
        // the root program has -c/--config too, and commander gives it the option wherever it stands: read both
        await probeAction({ ...o, config: o.config ?? cmd.optsWithGlobals<{ config?: string }>().config });
      } catch (e) {
        fail(e, o.json);
      }
    });
  program
    .command('probe-server')
    .description('Serve download/upload/RTT endpoints and UDP echo for linkward probes (and LibreSpeed/Cloudflare-style clients).')
    .option('--listen <addr>', 'HOST:PORT (non-loopback requires a token)', DEFAULT_PROBE_LISTEN)
    .option('--token <token>', 'required Bearer token (default: $LINKWARD_PROBE_TOKEN)')
    .option('--token-file <path>', 'file holding the token')
    .option('--max-bytes <n>', 'per-request byte cap', String(64 * 1024 * 1024))
    .option('--max-connections <n>', 'concurrent TCP connections', '64')
    .action(async (o: { listen: string; token?: string; tokenFile?: string; maxBytes: string; maxConnections: string }) => {
      try {
        const token = o.token || (o.tokenFile ? readFileSync(o.tokenFile, 'utf8').trim() : '') || process.env.LINKWARD_PROBE_TOKEN || undefined;
        const { host, port } = parseListen(o.listen);
        const srv = await startProbeServer({
          host,
          port,
          maxBytesPerRequest: Number(o.maxBytes),
          maxConnections: Number(o.maxConnections),
          ...(token ? { token } : {}),
        });
        process.stderr.write(
          `linkward probe-server listening on ${host.includes(':') ? `[${host}]` : host}:${srv.port} (HTTP + UDP echo)${token ? ', token required' : ''}\n`,
        );
        const shutdown = (): void => void srv.close().then(() => process.exit(Exit.OK));
        process.once('SIGINT', shutdown);
        process.once('SIGTERM', shutdown);
      } catch (e) {
        fail(e, false);
      }
    });
}
