// esbuild plugin: Node built-ins whose ESM import costs memory are loaded with require() instead.
//
// An ESM `import ... from 'node:http'` builds a module namespace from every export of node:http, and reading its lazy
// WebSocket/MessageEvent/CloseEvent exports loads Node's internal copy of undici (~11 MiB, issue 14), which linkward
// never uses (it bundles its own undici). require() returns the exports object without touching those getters.
// Checked per built-in on Node 24 (an `import * as X` and process.moduleLoadList): only node:http does this.
/** Built-ins to load through require (bare and node: forms). */
const CJS_BUILTINS = /^(node:)?http$/;
const NS = 'lw-cjs-builtin';

export const cjsBuiltinsPlugin = {
  name: 'cjs-builtins',
  setup(b) {
    b.onResolve({ filter: CJS_BUILTINS }, (args) =>
      // The require() inside the stand-in module stays external (the bundle's banner defines `require`).
      args.namespace === NS ? { path: args.path, external: true } : { path: args.path.replace(/^(node:)?/, 'node:'), namespace: NS },
    );
    b.onLoad({ filter: /.*/, namespace: NS }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
  },
};
