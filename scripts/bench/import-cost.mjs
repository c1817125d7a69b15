// Import-cost benchmark: RSS each dependency adds on top of a Node process that already serves HTTP.
// Usage: npm run bench:import-cost   (each case runs in a fresh process; prints JSON lines + a table)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CASES = ['none', 'undici-import', 'undici', 'http', 'zod', 'yaml', 'prom', 'pino', 'sqlite'];
/** Settle time before reading RSS, so lazy work triggered by the import has happened. */
const SETTLE_MS = 300;

async function child(what) {
  const rss = () => process.memoryUsage.rss() / 1048576;
  const http = await import('node:http');
  const srv = http.createServer((_q, s) => s.end('ok'));
  await new Promise((r) => srv.listen(0, '127.0.0.1', () => r(undefined)));
  const url = `http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (srv.address()).port}/`;
  const before = rss();
  if (what === 'undici-import') await import('undici');
  if (what === 'undici') {
    const { request } = await import('undici');
    for (let i = 0; i < 20; i++) await (await request(url)).body.text();
  }
  if (what === 'http')
    for (let i = 0; i < 20; i++)
      await new Promise((res) =>
        http.get(url, (r) => {
          r.resume();
          r.on('end', res);
        }),
      );
  if (what === 'zod') await import('zod');
  if (what === 'yaml') await import('yaml');
  if (what === 'prom') await import('prom-client');
  if (what === 'pino') await import('pino');
  if (what === 'sqlite') {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const D = (await import('better-sqlite3')).default;
    const dir = mkdtempSync(join(tmpdir(), 'lw-cost-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    const d = new D(join(dir, 'x.db'));
    d.pragma('journal_mode = WAL');
    d.exec('create table t(a)');
    d.prepare('insert into t values (1)').run();
  }
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  console.log(JSON.stringify({ case: what, baseMiB: +before.toFixed(1), rssMiB: +rss().toFixed(1), addedMiB: +(rss() - before).toFixed(1) }));
  srv.close();
}

if (process.argv[2] === '--child') {
  await child(process.argv[3]);
} else {
  const flags = process.argv.slice(2);
  const rows = [];
  for (const c of CASES) {
    const r = spawnSync(process.execPath, [...flags, fileURLToPath(import.meta.url), '--child', c], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${c}: ${r.stderr}`);
    const row = JSON.parse(r.stdout.trim());
    rows.push(row);
    console.log(JSON.stringify(row));
  }
  console.log(`\nimport cost (node ${process.versions.node}${flags.length ? `, flags ${flags.join(' ')}` : ''})`);
  for (const r of rows) console.log(`${r.case.padEnd(14)} +${String(r.addedMiB).padStart(5)} MiB  (base ${r.baseMiB})`);
}
