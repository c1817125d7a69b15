/** The build's lean undici, systeminformation, prom-client and zod-locale entries (scripts/build-lean-deps.mjs) behave like the full packages. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { cjsBuiltinsPlugin } from '../../../scripts/build-cjs-builtins.mjs';
import { leanDepsPlugin } from '../../../scripts/build-lean-deps.mjs';
import { makePki } from '../../support/k8s-tls.ts';

const ROOT = resolve(import.meta.dirname, '../../..');

/**
 * Uses every name linkward imports from the two packages the way linkward does: the global-dispatcher `request`, an
 * Agent as dispatcher, `pool.request` and `client.request` (methods undici's index puts on Dispatcher.prototype), a
 * connector from buildConnector, an undici error code, the systeminformation call of agent/cli/interfaces.ts, the four
 * prom-client classes in one registry's exposition, and zod's (English) issue messages.
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
out.push(Array.isArray(ifaces) && ifaces.some((i) => i.iface === 'lo' && typeof i.virtual === 'boolean'));
const { Counter, Gauge, Histogram, Registry } = await import('prom-client');
const reg = new Registry();
new Counter({ name: 'c_total', help: 'c', labelNames: ['k'], registers: [reg] }).inc({ k: 'a' }, 2);
new Gauge({ name: 'g', help: 'g', registers: [reg] }).set(1.5);
new Histogram({ name: 'h_seconds', help: 'h', buckets: [0.1, 1], registers: [reg] }).observe(0.5);
out.push(await reg.metrics(), reg.contentType);
const { z } = await import('zod');
const r = z.strictObject({ a: z.number().int().min(1), b: z.enum(['x', 'y']) }).safeParse({ a: 0.5, b: 'q', c: 1 });
out.push(r.error.issues.map((i) => i.path.join('.') + ': ' + i.message), typeof z.locales.en, typeof z.toJSONSchema);
// node:tls loaded by the bundle itself, before this probe opens any TLS connection (printed apart: it differs)
const tlsAtLoad = process.moduleLoadList.includes('NativeModule tls');
// HTTP/2 over TLS still works where undici's h2 client loads on first use
const { createSecureServer } = await import('node:http2');
const h2 = createSecureServer({ key: process.env.PROBE_TLS_KEY, cert: process.env.PROBE_TLS_CERT }, (req, res) => res.end('h2 ' + req.httpVersion + ' ' + req.url));
await new Promise((r) => h2.listen(0, '127.0.0.1', r));
const h2client = new Client('https://127.0.0.1:' + h2.address().port, { allowH2: true, connect: { ca: process.env.PROBE_TLS_CA } });
out.push(await (await h2client.request({ path: '/h2', method: 'GET' })).body.text());
await h2client.close();
h2.close();
console.log(JSON.stringify({ out, tlsAtLoad }));
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
    // cjs-builtins as in the real build: an ESM import of node:http would load Node's internal undici (and node:tls)
    plugins: lean ? [leanDepsPlugin(ROOT), cjsBuiltinsPlugin] : [cjsBuiltinsPlugin],
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: 'error',
  });
  return outfile;
}

test('the lean entries answer like the full undici, systeminformation, prom-client and zod, in a far smaller bundle', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lw-lean-deps-'));
  try {
    const full = await bundle(dir, false);
    const lean = await bundle(dir, true);
    const pki = makePki();
    const env = { ...process.env, PROBE_TLS_CA: pki.ca, PROBE_TLS_KEY: pki.key, PROBE_TLS_CERT: pki.cert };
    const run = (f: string): { out: unknown[]; tlsAtLoad: boolean } =>
      JSON.parse(execFileSync(process.execPath, [f], { encoding: 'utf8', timeout: 30_000, env }));
    const expected = ['GET /global', 'POST /agent', 'GET /pool', 'GET /client', 'UND_ERR_INVALID_ARG', 'ECONNREFUSED', true];
    const { out: fullOut, tlsAtLoad: fullTls } = run(full);
    assert.deepEqual(fullOut.slice(0, expected.length), expected, 'the probe itself, against the full packages');
    const [metrics, contentType, zodMessages, en, toJsonSchema] = fullOut.slice(expected.length) as [string, string, string[], string, string, string];
    assert.match(metrics, /^c_total\{k="a"\} 2$/m);
    assert.match(metrics, /^h_seconds_bucket\{le="1"\} 1$/m);
    assert.match(contentType, /^text\/plain; version=0\.0\.4/);
    assert.deepEqual(zodMessages.length, 3, JSON.stringify(zodMessages));
    assert.ok(
      zodMessages.every((m) => /^[ -~]+$/.test(m) && /expected|Invalid|Unrecognized/i.test(m)),
      JSON.stringify(zodMessages),
    );
    assert.deepEqual([en, toJsonSchema], ['function', 'function']);
    assert.equal(fullOut.at(-1), 'h2 2.0 /h2');
    const { out: leanOut, tlsAtLoad: leanTls } = run(lean);
    assert.deepEqual(leanOut, fullOut, 'the lean bundle answers exactly like the full packages');
    assert.deepEqual({ fullTls, leanTls }, { fullTls: true, leanTls: false }, 'node:tls loads with the first TLS connection only');
    const [fullText, leanText] = [readFileSync(full, 'utf8'), readFileSync(lean, 'utf8')];
    assert.ok(leanText.length < fullText.length * 0.6, `lean ${leanText.length} bytes, full ${fullText.length} bytes`);
    // what the lean entries leave out: undici's fetch, WebSocket and mocks, systeminformation's other modules,
    // prom-client's Pushgateway (its require('https') loads node:tls) and cluster aggregator, zod's other 63 locales
    const gone = ['var MockAgent', 'WebSocket = class', 'function fetch', 'function graphics', 'function dockerInfo'];
    for (const g of [...gone, 'prom-client/lib/pushgateway.js', 'prom-client/lib/cluster.js', 'zod/v4/locales/de.js', 'zod/v4/locales/ja.js']) {
      assert.ok(fullText.includes(g), `full bundle has ${g}`);
      assert.ok(!leanText.includes(g), `lean bundle has no ${g}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
