/** What `linkward probe` prints: its figures in words (progress, summary lines) and the `--json` object. */
import type { OneOffLatency } from '../../probes/oneoff.ts';
import type { Preset } from '../../probes/presets.ts';
import type { Direction, ThroughputResult } from '../../probes/throughput.ts';
import { honestBound } from '../../probes/throughput-result.ts';

export function fmtMbps(v: number | undefined): string {
  return v === undefined ? 'n/a' : `${v.toFixed(v < 10 ? 2 : 1)} Mbit/s`;
}

/** A direction's figure as shown: a lower bound never above what its test delivered (honestBound). */
function shownMbps(r: ThroughputResult | undefined, setAside = false): number | undefined {
  if (r?.mbps === undefined) return undefined;
  return r.lowerBound || setAside ? honestBound(r.mbps, r) : r.mbps;
}

export function fmtBytes(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} MB` : `${(n / 1e3).toFixed(1)} kB`;
}

export function fmtMs(v: number | undefined): string {
  return v === undefined ? 'n/a' : `${v.toFixed(1)} ms`;
}

/** `≥ 54.2 Mbit/s (capped)` for a lower bound, `(stalled)` when a TCP stall held it down; stop reason and bytes. */
export function fmtFigure(r: ThroughputResult | undefined, setAside = false): string {
  if (!r) return 'n/a';
  const note = r.stalled ? ' (stalled)' : r.lowerBound ? ' (capped)' : '';
  const mbps = shownMbps(r, setAside);
  return `${r.lowerBound && mbps !== undefined ? '≥ ' : ''}${fmtMbps(mbps)}${note}  (${r.stopReason}, ${fmtBytes(r.bytesUsed)})`;
}

/** Why the agent does not vouch for a figure (starved, cpu_bound, stalled), with words. */
export interface SetAside {
  reason: string;
  detail?: string;
}

/** " — not trusted: …" after a figure this process could not vouch for (as `linkward test` prints the daemon's). */
function notTrusted(a: SetAside | undefined): string {
  return a ? ` — not trusted: ${a.detail ?? a.reason}` : '';
}

/** Idle vs loaded RTT of one direction and its responsiveness (RPM). */
export function fmtLatency(r: ThroughputResult): string {
  const l = r.latency;
  if (!l) return 'not measured';
  const rpm = l.rpm === undefined ? 'n/a' : String(Math.round(l.rpm));
  return `idle rtt ${fmtMs(l.idleMs)}, loaded ${fmtMs(l.loadedMs)} (${l.loadedSamples} answered, ${l.loadedLost} lost), RPM ${rpm}`;
}

/** One run of `linkward probe`: where it measured and what each part found. */
export interface ProbeRun {
  url: string;
  preset: Preset;
  uplink: string | undefined;
  sourceAddress: string | undefined;
  latency: OneOffLatency;
  results: Partial<Record<Direction, ThroughputResult>>;
  setAside: Partial<Record<Direction, SetAside>>;
}

/** The run's report: one JSON object with `json`, else the summary lines. */
export function probeReport(run: ProbeRun, json: boolean | undefined): string {
  const { latency, setAside } = run;
  const down = run.results.down;
  const up = run.results.up;
  const bytesUsed = (down?.bytesUsed ?? 0) + (up?.bytesUsed ?? 0) + latency.bytes;
  const summary = {
    downloadMbps: shownMbps(down, setAside.down !== undefined) ?? null,
    uploadMbps: shownMbps(up, setAside.up !== undefined) ?? null,
    rttMs: latency.rttMs ?? null,
    jitterMs: latency.jitterMs ?? null,
    lossPercent: latency.lossPercent ?? null,
    bytesUsed,
    target: run.url,
    preset: run.preset,
    uplink: run.uplink ?? null,
    sourceAddress: run.sourceAddress ?? null,
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
  if (json) return JSON.stringify(summary) + '\n';
  return (
    [
      `download  ${fmtFigure(down, setAside.down !== undefined)}${notTrusted(setAside.down)}`,
      `upload    ${fmtFigure(up, setAside.up !== undefined)}${notTrusted(setAside.up)}`,
      `rtt       ${fmtMs(latency.rttMs)}`,
      ...(down ? [`  under download load: ${fmtLatency(down)}`] : []),
      ...(up ? [`  under upload load:   ${fmtLatency(up)}`] : []),
      `jitter    ${latency.jitterMs === undefined ? 'n/a' : `${latency.jitterMs.toFixed(1)} ms`}`,
      `loss      ${latency.lossPercent === undefined ? 'n/a' : `${latency.lossPercent.toFixed(1)} %`}`,
      `bytes     ${fmtBytes(bytesUsed)} (not counted against the daemon's budget)`,
      ...errors.map((e) => `error     ${e}`),
    ].join('\n') + '\n'
  );
}
