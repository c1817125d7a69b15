// Build: bundles the CLI/daemon into dist/linkward.mjs with esbuild (tree-shaken, whitespace-minified, pure ASCII; native modules external).
// undici and systeminformation enter the bundle as only the modules linkward calls (scripts/build-lean-deps.mjs).
import { build } from 'esbuild';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { asciiBundle } from './build-ascii.mjs';
import { cjsBuiltinsPlugin } from './build-cjs-builtins.mjs';
import { leanDepsPlugin } from './build-lean-deps.mjs';
import { localTimePlugin } from './build-local-time.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const out = join(root, 'dist', 'linkward.mjs');
/** The full Kubernetes client, bundled on its own: loaded by dynamic import only for kubeconfigs the lean client cannot handle. */
const KUBE_CLIENT = 'kube-client.mjs';

/** Writes esbuild's in-memory output, bundles made pure ASCII; fails the build on any byte >= 0x80 left in a bundle. */
function writeOutputs(result) {
  for (const f of result.outputFiles) {
    mkdirSync(dirname(f.path), { recursive: true });
    if (!f.path.endsWith('.mjs')) {
      writeFileSync(f.path, f.contents);
      continue;
    }
    writeFileSync(f.path, asciiBundle(f.path, f.text));
  }
}

const banner = {
  js: "#!/usr/bin/env node\nimport { createRequire as __lwCreateRequire } from 'node:module'; const require = __lwCreateRequire(import.meta.url);",
};

/** In the main bundle, both client-node imports resolve to the sibling file dist/kube-client.mjs (never inlined). */
const kubeClientAlias = {
  name: 'kube-client-alias',
  setup(b) {
    b.onResolve({ filter: /^@kubernetes\/client-node(\/dist\/gen\/rxjsStub\.js)?$/ }, () => ({ path: `./${KUBE_CLIENT}`, external: true }));
  },
};

const cron = localTimePlugin();
writeOutputs(
  await build({
    entryPoints: [join(root, 'agent', 'main.ts')],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    // Whitespace only (drops comments, -0.8 MB): identifiers stay readable in stack traces, and the sourcemap maps back.
    minifyWhitespace: true,
    charset: 'ascii',
    write: false,
    sourcemap: 'linked',
    legalComments: 'none',
    // Native addon and optional transports stay external. @kubernetes/client-node is loaded only for kubeconfigs the
    // lean client cannot handle (exec plugins, auth providers, proxies); inlined it would cost ~70 MiB of RSS even when
    // never called (docs/bench/k8s.md), so it lives in its own file next to the bundle (kubeClientAlias).
    external: ['better-sqlite3', 'pino-pretty'],
    plugins: [kubeClientAlias, leanDepsPlugin(root), cron.plugin, cjsBuiltinsPlugin],
    define: { LINKWARD_BUILD_VERSION: JSON.stringify(pkg.version) },
    banner,
    logLevel: 'warning',
  }),
);
chmodSync(out, 0o755);
if (!cron.patched()) throw new Error('build: node-cron was not bundled through the local-time patch (scripts/build-local-time.mjs)');

// dist/kube-client.mjs: client-node and its dependencies, plus the rxjs stub's `of` that agent/k8s/client-node-api.ts
// imports, so a release tree (which ships no node_modules/@kubernetes) can still use it.
writeOutputs(
  await build({
    stdin: {
      contents: "export * from '@kubernetes/client-node';\nexport { of } from '@kubernetes/client-node/dist/gen/rxjsStub.js';\n",
      resolveDir: root,
      sourcefile: 'kube-client-entry.mjs',
      loader: 'js',
    },
    outfile: join(root, 'dist', KUBE_CLIENT),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    minify: true,
    charset: 'ascii',
    write: false,
    legalComments: 'none',
    banner: { js: banner.js.replace('#!/usr/bin/env node\n', '') },
    logLevel: 'warning',
  }),
);
