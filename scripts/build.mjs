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
  // Native addon and optional transports stay external; everything else is tree-shaken into one file.
  external: ['better-sqlite3', 'pino-pretty'],
  define: { LINKWARD_BUILD_VERSION: JSON.stringify(pkg.version) },
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __lwCreateRequire } from 'node:module'; const require = __lwCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
chmodSync(out, 0o755);
