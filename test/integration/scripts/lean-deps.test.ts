/** The build's lean undici and systeminformation entries (scripts/build-lean-deps.mjs) behave like the full packages. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { leanDepsPlugin } from '../../../scripts/build-lean-deps.mjs';

const ROOT = resolve(import.meta.dirname, '../../..');

/**
 * Uses every name linkward imports from the two packages the way linkward does: the global-dispatcher `request`, an
 * Agent as dispatcher, `pool.request` and `client.request` (methods undici's index puts on Dispatcher.prototype), a
 * connector from buildConnector, an undici error code, and the two systeminformation calls of probes/passive.ts.
 */
const PROBE = `
import http from 'node:http';
import { Agent, Client, Pool, buildConnector, request } from 'undici';
const server = http.createServer((req, res) => res.end(req.method + ' ' + req.url));
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const origin = 'http://127.0.0.1:' + server.address().port;
const out = [];
out.push(await (await request(origin + '/global')).body.text());
const agent = new Agent();
out.push(await (await request(origin + '/agent', { dispatcher: agent, method: 'POST', body: 'x' })).body.text());
const pool = new Pool(origin, { connections: 2 });
out.push(await (await pool.request({ path: '/pool', method: 'GET' })).body.text());
const client = new Client(origin, { connect: buildConnector({ timeout: 2000 }) });
out.push(await (await client.request({ path: '/client', method: 'GET' })).body.text());
try { await request(origin + '/x', { agent }); } catch (e) { out.push(e.code); }
try { await new Client('http://127.0.0.1:1').request({ path: '/', method: 'GET' }); } catch (e) { out.push(e.code); }
await Promise.all([agent.close(), pool.close(), client.close()]);
server.close();
const si = await import('systeminformation');
const ifaces = await si.networkInterfaces();
out.push(typeof si.wifiConnections, Array.isArray(ifaces) && ifaces.some((i) => i.iface === 'lo'));
console.log(JSON.stringify(out));
`;

async function bundle(dir: string, lean: boolean): Promise<string> {
  const outfile = join(dir, lean ? 'lean.mjs' : 'full.mjs');
  await build({
    stdin: { contents: PROBE, resolveDir: ROOT, loader: 'js' },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    plugins: lean ? [leanDepsPlugin(ROOT)] : [],
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: 'error',
  });
  return outfile;
}

test('the lean entries answer like the full undici and systeminformation, in a far smaller bundle', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lw-lean-deps-'));
  try {
    const full = await bundle(dir, false);
    const lean = await bundle(dir, true);
    const run = (f: string): unknown => JSON.parse(execFileSync(process.execPath, [f], { encoding: 'utf8', timeout: 30_000 }));
    const expected = ['GET /global', 'POST /agent', 'GET /pool', 'GET /client', 'UND_ERR_INVALID_ARG', 'ECONNREFUSED', 'function', true];
    assert.deepEqual(run(full), expected, 'the probe itself, against the full packages');
    assert.deepEqual(run(lean), expected);
    const [fullText, leanText] = [readFileSync(full, 'utf8'), readFileSync(lean, 'utf8')];
    assert.ok(leanText.length < fullText.length * 0.6, `lean ${leanText.length} bytes, full ${fullText.length} bytes`);
    // what the lean entries leave out: undici's fetch, WebSocket and mocks, systeminformation's other modules
    for (const gone of ['var MockAgent', 'WebSocket = class', 'function fetch', 'function graphics', 'function dockerInfo']) {
      assert.ok(fullText.includes(gone), `full bundle has ${gone}`);
      assert.ok(!leanText.includes(gone), `lean bundle has no ${gone}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
