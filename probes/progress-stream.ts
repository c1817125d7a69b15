/** POST /v1/probes/throughput?progress=1: runs the tests and streams NDJSON, running figures first, the results last. */
import type { ServerResponse } from 'node:http';
import type { Clock } from '../agent/base/clock.ts';
import type { ThroughputProgress } from './throughput.ts';
import type { ThroughputOutcome } from './throughput-outcome.ts';

/** At most this often per direction: a terminal redraw needs no more, and the stream stays a few hundred bytes/s. */
export const PROGRESS_EVERY_MS = 250;

/** What the stream needs of an uplink monitor. */
export interface ProgressTarget {
  name: string;
  throughput(opts: { download?: boolean; upload?: boolean; force?: boolean; onProgress?: (p: ThroughputProgress) => void }): Promise<ThroughputOutcome>;
}

/** Runs each uplink's test in turn; every line is one JSON object: `{progress}` while running, then `{results}`. */
export async function streamThroughput(
  res: ServerResponse,
  targets: readonly ProgressTarget[],
  dirs: { download?: boolean; upload?: boolean; force?: boolean },
  clock: Clock,
  track: <T>(p: Promise<T>) => Promise<T>,
): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  const line = (obj: unknown): void => {
    if (!res.destroyed) res.write(JSON.stringify(obj) + '\n');
  };
  const results: ThroughputOutcome[] = [];
  for (const m of targets) {
    let lastMs = -Infinity;
    let lastDir = '';
    const onProgress = (p: ThroughputProgress): void => {
      const now = clock.monoMs();
      if (p.direction === lastDir && now - lastMs < PROGRESS_EVERY_MS) return;
      lastMs = now;
      lastDir = p.direction;
      line({ progress: { uplink: m.name, direction: p.direction, mbps: Math.round(p.mbps * 100) / 100, bytes: p.bytes, elapsedMs: Math.round(p.elapsedMs) } });
    };
    results.push(await track(m.throughput({ ...dirs, onProgress })));
  }
  line({ results });
  res.end();
}
