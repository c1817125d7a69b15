/** Child process of the site lab: a local workload in lws-edge posting influx-line telemetry to linkward's ingest, one JSON line per answer. */
import { appendFileSync } from 'node:fs';

// argv: agentPort token runId outFile intervalMs sinks(comma-separated)
const [port, token, runId, outArg, intervalArg, sinksArg] = process.argv.slice(2);
if (!port || !token || !runId || !outArg || !intervalArg || !sinksArg)
  throw new Error('usage: site-lab-workload.ts PORT TOKEN RUN OUT INTERVAL_MS SINK[,SINK]');
const outFile: string = outArg;
const INTERVAL_MS = Number(intervalArg);
const SINKS = sinksArg.split(',');
/** Numeric padding fields per record (~16 B each): makes the outage backlog big enough for the flush pacing to be measurable. */
const PAD_FIELDS = 100;
/** One request never waits longer than this: the ingest answers after a local fsync, the uplinks play no part. */
const POST_TIMEOUT_MS = 10_000;

const pad = Array.from({ length: PAD_FIELDS }, (_, i) => `p${i}=${(i + 0.123456789).toFixed(9)}`).join(',');
let seq = 0;
let stopping = false;

/** One record per sink: metric lws_site_seq{run,sink} = seq at the workload's own timestamp (ns in the line, ms precision). */
async function tick(): Promise<void> {
  const tsMs = Date.now();
  const n = seq++;
  await Promise.all(
    SINKS.map(async (sink) => {
      const line = `lws_site,run=${runId},sink=${sink} seq=${n},${pad} ${tsMs}000000\n`;
      let status = 0;
      let error: string | undefined;
      try {
        const r = await fetch(`http://127.0.0.1:${port}/v1/ingest/${sink}`, {
          method: 'POST',
          body: line,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
          signal: AbortSignal.timeout(POST_TIMEOUT_MS),
        });
        status = r.status;
        await r.arrayBuffer();
      } catch (e) {
        error = String((e as Error).message ?? e);
      }
      appendFileSync(outFile, JSON.stringify({ sink, seq: n, tsMs, status, ackMs: Date.now(), ...(error ? { error } : {}) }) + '\n');
    }),
  );
}

process.on('SIGTERM', () => {
  stopping = true;
});
console.log('workload ready');
while (!stopping) {
  const t0 = Date.now();
  await tick();
  await new Promise((r) => setTimeout(r, Math.max(0, INTERVAL_MS - (Date.now() - t0))));
}
process.exit(0);
