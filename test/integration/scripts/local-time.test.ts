/** The build's Intl-free node-cron (scripts/build-local-time.mjs) computes the same matches and next runs as the original. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { localTimePlugin, patchNodeCron } from '../../../scripts/build-local-time.mjs';

const ROOT = resolve(import.meta.dirname, '../../..');
const SHARED = join(ROOT, 'node_modules', 'node-cron', 'dist', '_shared.js');
/** Zones with positive, negative, half-hour and 45-minute offsets and DST in both hemispheres. */
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'America/Santiago'];
/** The agent's default (hourly) and the kinds of expression operators use, incl. day-of-month and weekday rules. */
const EXPRESSIONS = ['0 * * * *', '*/15 2-5 * * *', '30 3 * * 1-5', '0 0 L * *', '0 12 15W * *', '0 6 * * 0', '45 1 29 2 *', '0 */6 * * *'];
/** Start points around both 2026 DST changes in Europe and the US, a leap day and a year end. */
const FROM = ['2026-03-08T06:59:30Z', '2026-03-29T00:30:00Z', '2026-10-25T00:59:59Z', '2026-11-01T05:30:00Z', '2028-02-28T23:00:00Z', '2026-12-31T23:59:59Z'];

/** A script printing, per expression and start, the next 5 matches and whether the start itself matches. */
const PROBE = `
import { TimeMatcher } from './cron.mjs';
const out = [];
for (const e of ${JSON.stringify(EXPRESSIONS)}) {
  const m = new TimeMatcher(e);
  for (const f of ${JSON.stringify(FROM)}) {
    let d = new Date(f);
    const runs = [];
    for (let i = 0; i < 5; i++) { d = m.getNextMatch(d); runs.push(d.toISOString()); }
    out.push([e, f, m.match(new Date(f)), runs]);
  }
}
console.log(JSON.stringify(out));
`;

async function bundle(dir: string, name: string, patched: boolean): Promise<void> {
  const sub = join(dir, name);
  await build({
    stdin: { contents: `export { T as TimeMatcher } from ${JSON.stringify(SHARED)};`, resolveDir: ROOT, loader: 'js' },
    outfile: join(sub, 'cron.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    plugins: patched ? [localTimePlugin().plugin] : [],
    logLevel: 'error',
  });
  writeFileSync(join(sub, 'probe.mjs'), PROBE);
}

test('patched node-cron gives the same matches and next runs as the original in every zone', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lw-local-time-'));
  try {
    await bundle(dir, 'original', false);
    await bundle(dir, 'patched', true);
    for (const tz of ZONES) {
      const run = (name: string): string =>
        execFileSync(process.execPath, [join(dir, name, 'probe.mjs')], { env: { PATH: process.env.PATH ?? '', TZ: tz }, encoding: 'utf8', timeout: 30_000 });
      const a = run('original');
      assert.ok(a.length > 1000, 'the probe printed results');
      assert.equal(run('patched'), a, `TZ=${tz}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the patched schedule never constructs Intl.DateTimeFormat without a timezone, and still does with one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lw-local-time-'));
  try {
    await bundle(dir, 'patched', true);
    const script = `
let made = 0;
const Orig = Intl.DateTimeFormat;
Intl.DateTimeFormat = function (...a) { made++; return new Orig(...a); };
const { TimeMatcher } = await import('./cron.mjs');
new TimeMatcher('0 * * * *').getNextMatch(new Date('2026-03-29T00:30:00Z'));
const local = made;
new TimeMatcher('0 * * * *', 'Asia/Tokyo').getNextMatch(new Date('2026-03-29T00:30:00Z'));
console.log(JSON.stringify({ local, zoned: made - local }));
`;
    writeFileSync(join(dir, 'patched', 'intl.mjs'), script);
    const r = JSON.parse(execFileSync(process.execPath, [join(dir, 'patched', 'intl.mjs')], { encoding: 'utf8', timeout: 30_000 })) as {
      local: number;
      zoned: number;
    };
    assert.equal(r.local, 0);
    assert.ok(r.zoned > 0, 'an explicit timezone still goes through Intl');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the patch refuses a node-cron it does not recognise instead of building without it', () => {
  assert.throws(() => patchNodeCron('export const nothing = 1;'), /not found exactly once/);
});
