// Build plugin: bundles only the parts of undici and systeminformation that linkward calls, not their whole index.
//
// Both packages' index files load every module they have at import time (undici: fetch, WebSocket, EventSource, caches,
// mocks, proxies, interceptors; systeminformation: cpu, graphics, docker, printers, USB, audio, bluetooth...). Measured
// on Node 24 (scripts/bench/footprint.mjs, docs/BENCHMARKS.md "session 8"), each unused module costs heap, anonymous
// memory and the binary's pages it touches, for the daemon's whole life. The source keeps `import ... from 'undici'`
// (tests run it against the full package); only the bundle resolves these two names to the entries below, built from
// the same files the package index re-exports, so the classes and functions are identical.
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

/** systeminformation: the network and Wi-Fi modules only (probes/passive.ts: networkInterfaces, wifiConnections). */
const SI_ENTRY = `
export * from 'systeminformation/lib/network.js';
export * from 'systeminformation/lib/wifi.js';
`;

const ENTRIES = { undici: UNDICI_ENTRY, systeminformation: SI_ENTRY };

/** esbuild plugin; `root` is the project root (its node_modules resolve the deep paths). */
export function leanDepsPlugin(root) {
  return {
    name: 'lean-deps',
    setup(b) {
      b.onResolve({ filter: /^(undici|systeminformation)$/ }, (a) => ({ path: a.path, namespace: 'lw-lean-deps' }));
      b.onLoad({ filter: /.*/, namespace: 'lw-lean-deps' }, (a) => ({
        contents: ENTRIES[a.path],
        loader: 'js',
        resolveDir: root,
      }));
    },
  };
}
