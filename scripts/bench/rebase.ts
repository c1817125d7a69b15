// Benchmark (npm run bench:rebase): how long a clock rebase of a full buffer holds the event loop. Per run it draws a
// record count and size (--runs, --seed; printed), fills a real buffer.db, then times (a) the whole rebase in one
// transaction, as before slicing, and (b) the ClockRebaser after a forward step of 7 days, slice by slice, while a
// 10-ms timer measures how late the loop ran it (what an ingest request, a probe or the watchdog ping would wait).
// Options: --min-records, --max-records, --min-bytes, --max-bytes, --burners-per-core N (busy loops at our nice level).
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { systemClock, type Clock } from '../../agent/base/clock.ts';
import { createLogger } from '../../agent/base/log.ts';
import { ClockRebaser, REBASE_SLICE_RECORDS } from '../../buffer/clock-rebase.ts';
import { createBufferMetrics } from '../../buffer/metrics.ts';
import { openBufferDb } from '../../buffer/sqlite-open.ts';
import { SqliteStore } from '../../buffer/store-sqlite.ts';
import type { Store } from '../../buffer/types.ts';
import { startBurners } from '../../test/support/cpu-burners.ts';
import { prng } from '../../test/support/link-samples.ts';

const args = process.argv.slice(2);
const opt = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? def) : def;
};
const RUNS = Number(opt('runs', '3'));
const SEED = Number(opt('seed', String(Math.floor(Math.random() * 2 ** 31))));
const MIN_RECORDS = Number(opt('min-records', '100000'));
const MAX_RECORDS = Number(opt('max-records', '600000'));
const MIN_BYTES = Number(opt('min-bytes', '100'));
const MAX_BYTES = Number(opt('max-bytes', '1500'));
const BURNERS = Number(opt('burners-per-core', '0')) * availableParallelism();
const DAY_MS = 86_400_000;
/** The probe of loop lateness: a timer this often, its lateness is what any other callback would have waited. */
const TICK_MS = 10;

const rnd = prng(SEED);
const draws = Array.from({ length: RUNS }, () => ({
  records: Math.round(MIN_RECORDS + rnd() * (MAX_RECORDS - MIN_RECORDS)),
  bytes: Math.round(MIN_BYTES + rnd() * (MAX_BYTES - MIN_BYTES)),
}));
console.error(`bench:rebase seed ${SEED}, ${BURNERS} busy loops, drew ${draws.map((d) => `${d.records} × ${d.bytes} B`).join(', ')}`);

function fill(store: Store, records: number, bytes: number, createdMs: number): void {
  const body = Buffer.alloc(bytes, 120);
  for (let i = 0; i < records; i += 5_000) {
    const n = Math.min(5_000, records - i);
    store.appendMany(
      Array.from({ length: n }, () => ({ sink: 'm', priority: 1, createdMs, expiresMs: createdMs + DAY_MS, contentType: null, contentEncoding: null, body })),
    );
  }
}

/** Runs `fn` while a TICK_MS timer measures how late the loop fires it; returns the largest lateness in ms. */
async function lateness(fn: () => Promise<void>): Promise<number> {
  let worst = 0;
  let due = performance.now() + TICK_MS;
  const t = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - due);
    due = now + TICK_MS;
  }, TICK_MS);
  try {
    await fn();
  } finally {
    clearInterval(t);
  }
  return worst;
}

const burners = BURNERS > 0 ? startBurners({ count: BURNERS }) : null;
try {
  for (const d of draws) {
    const dir = mkdtempSync(join(tmpdir(), 'lw-bench-rebase-'));
    try {
      const old = Date.now() - 7 * DAY_MS;
      // (a) one transaction over the whole buffer: the shape before slicing
      const a = new SqliteStore(openBufferDb(join(dir, 'a.db'), 1).db);
      fill(a, d.records, d.bytes, old);
      let t0 = performance.now();
      a.queueShift({ deltaMs: 7 * DAY_MS, cutoffMs: old });
      a.beginShift();
      a.shiftSome(d.records);
      const wholeMs = performance.now() - t0;
      a.close();
      // (b) the ClockRebaser, a slice per transaction
      const b = new SqliteStore(openBufferDb(join(dir, 'b.db'), 1).db);
      fill(b, d.records, d.bytes, old);
      let offset = -7 * DAY_MS;
      const clock: Clock = { ...systemClock, nowMs: () => systemClock.nowMs() + offset };
      const reg = new Registry();
      const metrics = createBufferMetrics(
        reg,
        () => [],
        clock.nowMs,
        () => 0,
        () => ({ used: 0, waiting: 0 }),
      );
      const rebaser = new ClockRebaser({
        store: b,
        clock,
        sinks: [{ name: 'm', ttlSeconds: 86_400 }],
        log: createLogger({ level: 'error', format: 'json' }),
        metrics,
        drain: async () => {},
        active: () => true,
        settled: () => {},
      });
      offset = 0; // NTP steps the clock forward by 7 days
      t0 = performance.now();
      const worst = await lateness(async () => {
        rebaser.settled();
        await rebaser.idle();
      });
      const slicedMs = performance.now() - t0;
      const moved = rebaser.lastStep?.shiftedRecords ?? 0;
      b.close();
      const row = {
        ...d,
        burners: BURNERS,
        moved,
        wholeTxMs: Math.round(wholeMs),
        slicedTotalMs: Math.round(slicedMs),
        slices: Math.ceil(d.records / REBASE_SLICE_RECORDS),
        loopLateMaxMs: Math.round(worst * 10) / 10,
      };
      console.log(JSON.stringify(row));
      if (moved !== d.records) {
        console.error(`bench:rebase: moved ${moved} of ${d.records} records`);
        process.exitCode = 1;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
} finally {
  burners?.stop();
}
