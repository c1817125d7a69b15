// Build: bundles the CLI/daemon into dist/linkward.mjs with esbuild (tree-shaken; native modules external).
import { build } from 'esbuild';
import { chmodSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const out = join(root, 'dist', 'linkward.mjs');
await build({
  entryPoints: [join(root, 'agent', 'cli.ts')],
  outfile: out,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  minify: false,
  sourcemap: 'linked',
  legalComments: 'none',
  // Native addon, optional transports and the full Kubernetes client stay external: @kubernetes/client-node
  // is loaded only for kubeconfigs the lean client cannot handle (exec plugins, auth providers, proxies);
  // bundled inline it would cost ~70 MiB of RSS even when never called (docs/bench/k8s.md).
  external: ['better-sqlite3', 'pino-pretty', '@kubernetes/client-node'],
  define: { LINKWARD_BUILD_VERSION: JSON.stringify(pkg.version) },
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __lwCreateRequire } from 'node:module'; const require = __lwCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
chmodSync(out, 0o755);
