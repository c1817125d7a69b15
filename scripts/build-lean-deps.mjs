// Build plugin: bundles only the parts of undici, systeminformation and prom-client that linkward calls, and zod with
// its English messages only, not their whole index.
//
// The packages' index files load every module they have at import time (undici: fetch, WebSocket, EventSource, caches,
// mocks, proxies, interceptors; systeminformation: cpu, graphics, docker, printers, USB, audio, bluetooth...; prom-client:
// the Pushgateway, whose `require('https')` loads node:tls, and node:tls starts parsing Node's 121 bundled root
// certificates on a thread at load: ~0.9 MiB of OpenSSL heap for a daemon that may never open a TLS connection; zod: 64
// locales, 310 KB of source kept in memory for the daemon's life, of which linkward uses English). Measured
// on Node 24 (scripts/bench/footprint.mjs, docs/BENCHMARKS.md "session 8"), each unused module costs heap, anonymous
// memory and the binary's pages it touches, for the daemon's whole life. The source keeps `import ... from 'undici'`
// (tests run it against the full package); only the bundle resolves these names to the entries below, built from
// the same files the package index re-exports, so the classes and functions are identical.
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * undici: the names linkward imports (Client, Pool, Agent, request, buildConnector); a new one fails the build.
 * `Object.assign(Dispatcher.prototype, api)` and `request` are copied from undici's index.js (8.x) so that
 * `pool.request()` and the global-dispatcher `request()` behave exactly as with the full package.
 */
const UNDICI_ENTRY = `
import Dispatcher from 'undici/lib/dispatcher/dispatcher.js';
import api from 'undici/lib/api/index.js';
import Client from 'undici/lib/dispatcher/client.js';
import Pool from 'undici/lib/dispatcher/pool.js';
import Agent from 'undici/lib/dispatcher/agent.js';
import buildConnector from 'undici/lib/core/connect.js';
import errors from 'undici/lib/core/errors.js';
import util from 'undici/lib/core/util.js';
import globalDispatcher from 'undici/lib/global.js';
Object.assign(Dispatcher.prototype, api);
const { InvalidArgumentError } = errors;
function request(url, opts, handler) {
  if (typeof opts === 'function') { handler = opts; opts = null; }
  if (!url || (typeof url !== 'string' && typeof url !== 'object' && !(url instanceof URL))) throw new InvalidArgumentError('invalid url');
  if (opts != null && typeof opts !== 'object') throw new InvalidArgumentError('invalid opts');
  if (opts && opts.path != null) {
    if (typeof opts.path !== 'string') throw new InvalidArgumentError('invalid opts.path');
    let path = opts.path;
    if (!opts.path.startsWith('/')) path = '/' + path;
    url = new URL(util.parseOrigin(url).origin + path);
  } else {
    if (!opts) opts = typeof url === 'object' ? url : {};
    url = util.parseURL(url);
  }
  const { agent, dispatcher = globalDispatcher.getGlobalDispatcher(), ...restOpts } = opts;
  if (agent) throw new InvalidArgumentError('unsupported opts.agent. Did you mean opts.client?');
  return api.request.call(dispatcher, {
    ...restOpts,
    origin: url.origin,
    path: url.search ? url.pathname + url.search : url.pathname,
    method: opts.method || (opts.body ? 'PUT' : 'GET'),
  }, handler);
}
export { Client, Pool, Agent, buildConnector, request };
`;

/** systeminformation: the network module only (agent/cli/interfaces.ts: networkInterfaces, for `linkward init`). */
const SI_ENTRY = `
export * from 'systeminformation/lib/network.js';
`;

/** prom-client: the four classes linkward imports (agent/http/metrics.ts and the components' metrics). */
const PROM_ENTRY = `
export { default as Counter } from 'prom-client/lib/counter.js';
export { default as Gauge } from 'prom-client/lib/gauge.js';
export { default as Histogram } from 'prom-client/lib/histogram.js';
export { default as Registry } from 'prom-client/lib/registry.js';
`;

/** zod's locale index (imported by zod/v4/classic and zod/v4/core as `locales`): English only, zod's default. */
const ZOD_LOCALES_ENTRY = `export { default as en } from 'zod/v4/locales/en.js';`;

const ENTRIES = { undici: UNDICI_ENTRY, systeminformation: SI_ENTRY, 'prom-client': PROM_ENTRY, 'zod-locales': ZOD_LOCALES_ENTRY };

/**
 * undici's client.js requires client-h2.js at load, and client-h2.js requires node:http2, which loads node:tls (and so
 * the root-certificate parse above), although the HTTP/2 client runs only after TLS negotiated "h2". In the bundle the
 * require moves into the call: esbuild runs a CommonJS module's body at its first require, so HTTP/2 and TLS load with
 * the first h2 connection. The build fails if undici's line changes.
 */
const H2_REQUIRE = "const connectH2 = require('./client-h2.js')";
const H2_LAZY = "let connectH2Impl\nconst connectH2 = (...args) => (connectH2Impl ??= require('./client-h2.js'))(...args)";

/** esbuild plugin; `root` is the project root (its node_modules resolve the deep paths). */
export function leanDepsPlugin(root) {
  return {
    name: 'lean-deps',
    setup(b) {
      b.onResolve({ filter: /^(undici|systeminformation|prom-client)$/ }, (a) => ({ path: a.path, namespace: 'lw-lean-deps' }));
      b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (a) =>
        /[\\/]zod[\\/]v4[\\/](classic|core)$/.test(a.resolveDir) ? { path: 'zod-locales', namespace: 'lw-lean-deps' } : undefined,
      );
      b.onLoad({ filter: /[\\/]undici[\\/]lib[\\/]dispatcher[\\/]client\.js$/ }, async (a) => {
        const src = await readFile(a.path, 'utf8');
        if (src.split(H2_REQUIRE).length !== 2) throw new Error(`lean-deps: "${H2_REQUIRE}" not found once in ${a.path} (undici changed: update H2_LAZY)`);
        return { contents: src.replace(H2_REQUIRE, H2_LAZY), loader: 'js', resolveDir: dirname(a.path) };
      });
      b.onLoad({ filter: /.*/, namespace: 'lw-lean-deps' }, (a) => ({
        contents: ENTRIES[a.path],
        loader: 'js',
        resolveDir: root,
      }));
    },
  };
}
