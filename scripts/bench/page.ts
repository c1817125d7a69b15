/** Status page benchmark: weight and render time of GET / with 24 h of history for two uplinks, served by the real daemon and loaded in headless Chromium. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { startDaemon } from '../../test/support/daemon.ts';
import { fillStateDb, statusFor } from '../../test/support/history-fill.ts';
import { HistoryStore } from '../../agent/history/store.ts';
import { buildHistory } from '../../agent/history/query.ts';
import { renderStatusPage } from '../../agent/http/status-page.ts';
import { renderWithoutJs } from '../../test/integration/page/cdp.ts';

/** Repetitions per figure; medians and max are reported. */
const RUNS = Number(process.argv[2] ?? 20);
const BROWSER_RUNS = 5;
const DAY = 86_400_000;

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const med = s[Math.floor(s.length / 2)] as number;
  return `median ${med.toFixed(1)} ms, max ${(s.at(-1) as number).toFixed(1)} ms (n=${s.length})`;
}

const stateDir = mkdtempSync(join(tmpdir(), 'lw-bench-page-'));
try {
  const now = Date.now();
  const db = new Database(join(stateDir, 'state.db'));
  db.pragma('journal_mode = WAL');
  fillStateDb(db, 'down', now);

  // in process: query + document, then HTML, from the on-disk state.db (what the daemon does on a cache miss)
  const store = new HistoryStore(db);
  const query: number[] = [];
  const render: number[] = [];
  let html = '';
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const doc = buildHistory(
      {
        probes: store.probeSamples(now - DAY, now),
        transitions: store.transitions(now - DAY, now),
        failovers: store.failovers(now - DAY, now),
        nodeActions: store.nodeActions(now - DAY, now),
        buffer: store.bufferSamples(now - DAY, now),
      },
      now,
      DAY,
    );
    const t1 = performance.now();
    html = renderStatusPage(statusFor('down', now), now, doc);
    render.push(performance.now() - t1);
    query.push(t1 - t0);
  }
  db.close();

  const d = await startDaemon({}, { stateDir });
  try {
    const served: number[] = [];
    const api: number[] = [];
    let bytes = 0;
    for (let i = 0; i < RUNS; i++) {
      let t0 = performance.now();
      const page = await (await fetch(`${d.baseUrl}/`)).text();
      served.push(performance.now() - t0);
      bytes = Buffer.byteLength(page);
      t0 = performance.now();
      await (await fetch(`${d.baseUrl}/v1/history?since=24h`)).arrayBuffer();
      api.push(performance.now() - t0);
    }
    const load: number[] = [];
    for (let i = 0; i < BROWSER_RUNS; i++) load.push((await renderWithoutJs(`${d.baseUrl}/`, 1024, 900)).loadMs);
    console.log(
      JSON.stringify(
        {
          pageBytesInProcess: Buffer.byteLength(html),
          pageBytesServed: bytes,
          pageBytesGzip: gzipSync(html).length,
          inProcessQuery: stats(query),
          inProcessRender: stats(render),
          getPageFirstUncachedMs: Number((served[0] as number).toFixed(1)),
          getPage: stats(served.slice(1)),
          getHistoryJson: stats(api),
          chromiumLoad: stats(load),
        },
        null,
        2,
      ),
    );
  } finally {
    await d.stop();
    await d.cleanup();
  }
} finally {
  rmSync(stateDir, { recursive: true, force: true });
}
