/** `linkward probe`: target, uplink and preset from the options and config, then latency and each direction with live progress. */
import { systemClock } from '../base/clock.ts';
import { LwError } from '../base/errors.ts';
import { Exit } from './exit-codes.ts';
import { loadConfig, resolveConfigPath } from '../config/load.ts';
import { effectiveUplinks } from '../config/uplinks.ts';
import { ProbeErrorCode } from '../../probes/errors.ts';
import { hostPort } from '../../probes/rtt-probers.ts';
import { resolveSources, sourceOfHost } from '../../probes/source.ts';
import { runThroughput, type Direction, type ThroughputResult } from '../../probes/throughput.ts';
import { DisturbanceWatch } from '../../probes/disturbance.ts';
import { runJudged } from '../../probes/uplink-throughput.ts';
import { enterValue } from '../../probes/throughput-policy.ts';
import { threadCpu } from '../../probes/run-queue.ts';
import type { Preset } from '../../probes/presets.ts';
import { oneOffLatency } from '../../probes/oneoff.ts';
import { fmtBytes, fmtMbps, fmtMs, probeReport, type SetAside } from './probe-report.ts';

export interface ProbeOptions {
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

export async function probeAction(o: ProbeOptions): Promise<void> {
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
  const setAside: Partial<Record<Direction, SetAside>> = {};
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
            // as the agent runs it: the allowance lets the figure reach the degraded level it is judged against
            judgeAtMbps: enterValue(dir, loaded.config.probes.health),
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
  process.stdout.write(probeReport({ url, preset, uplink: uplink?.name, sourceAddress, latency, results, setAside }, o.json));
  // the throughput server is unusable when any direction asked for produced no figure
  const unusable = dirs.some((d) => results[d]?.mbps === undefined);
  process.exitCode = unusable ? Exit.FAILURE : Exit.OK;
}
