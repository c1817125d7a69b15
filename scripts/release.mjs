// Release: builds dist/linkward-<version>-linux-<arch>.tar.gz, a self-contained tree (pinned Node, bundle, native addons, unit, installer).
//
//   node scripts/release.mjs [--out-dir DIR] [--stage DIR] [--no-build]
//
// --stage DIR   only lay the tree out in DIR (no tarball); the install tests use it
// --no-build    package the existing dist/linkward.mjs instead of rebuilding it
//
// Tree (prefix linkward-<version>-linux-<arch>/), installed as /usr/lib/linkward by install.sh:
//   node  dist/linkward.mjs  dist/kube-client.mjs (the full Kubernetes client, loaded on demand)  node_modules/better-sqlite3 (lib + the N-API prebuild for this platform)
//   agent/native/build/Release/lw_native.node  systemd/  docs/OPERATIONS.md
//   config.example.yaml  install.sh  uninstall.sh  VERSION
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const modules = join(root, 'node_modules');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
/** The pinned runtime ships per platform as node-linux-<arch> (x64, arm64, armv7l under npm's names). */
const NODE_ARCH = { x64: 'x64', arm64: 'arm64', arm: 'armv7l' }[process.arch];
/** Packaging commands (build, config defaults, load check) finish in seconds; bound them for slow devices. */
const STEP_TIMEOUT_MS = 180_000;
/** gzip level 6: 9 takes ~2x the time for < 1 % on the Node binary, which is most of the tarball. */
const GZIP_LEVEL = 6;

/** Files copied from better-sqlite3 and its runtime deps: only what `require('better-sqlite3')` loads. */
/** better-sqlite3 13 ships N-API prebuilds (one binary per platform, any Node version): no compile, no bindings. */
const RUNTIME_PACKAGES = {
  'better-sqlite3': ['package.json', 'LICENSE', 'lib', `prebuilds/linux${process.arch === 'x64' ? '-x64' : `-${process.arch}`}.node`],
};

function parseArgs(argv) {
  const o = { outDir: join(root, 'dist'), stage: null, build: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out-dir') o.outDir = resolve(argv[++i] ?? '');
    else if (a === '--stage') o.stage = resolve(argv[++i] ?? '');
    else if (a === '--no-build') o.build = false;
    else throw new Error(`unknown argument ${a} (usage: release.mjs [--out-dir DIR] [--stage DIR] [--no-build])`);
  }
  return o;
}

function fail(msg) {
  console.error(`linkward release: ${msg}`);
  process.exit(1);
}

/** The Node binary of the pinned runtime (not the system one): node-linux-<arch>/bin/node. */
function pinnedNode() {
  if (!NODE_ARCH) fail(`unsupported architecture ${process.arch}`);
  for (const dir of [join(modules, 'node', 'node_modules', `node-linux-${NODE_ARCH}`), join(modules, `node-linux-${NODE_ARCH}`)]) {
    const bin = join(dir, 'bin', 'node');
    if (existsSync(bin)) return bin;
  }
  return fail(`node-linux-${NODE_ARCH} not found in node_modules (the "node" devDependency installs it); run npm ci`);
}

function copyInto(stage, rel, from = join(root, rel)) {
  if (!existsSync(from)) fail(`missing ${from}`);
  const to = join(stage, rel);
  mkdirSync(dirname(to), { recursive: true });
  if (statSync(from).isDirectory()) cpSync(from, to, { recursive: true, dereference: true });
  else copyFileSync(from, to);
}

/** Lays the release tree out in `stage` and checks it runs on its own Node. */
function stageTree(stage, nodeBin) {
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  copyFileSync(nodeBin, join(stage, 'node'));
  chmodSync(join(stage, 'node'), 0o755);
  copyInto(stage, 'dist/linkward.mjs');
  copyInto(stage, 'dist/kube-client.mjs');
  for (const [name, files] of Object.entries(RUNTIME_PACKAGES)) {
    for (const f of files) copyInto(stage, join('node_modules', name, f));
  }
  // agent/systemd/notify.ts looks for the addon at ../agent/native/build/Release/ relative to dist/.
  copyInto(stage, 'agent/native/build/Release/lw_native.node');
  copyInto(stage, 'systemd');
  copyInto(stage, 'docs/OPERATIONS.md');
  copyInto(stage, 'install.sh', join(root, 'scripts', 'install.sh'));
  copyInto(stage, 'uninstall.sh', join(root, 'scripts', 'uninstall.sh'));
  chmodSync(join(stage, 'install.sh'), 0o755);
  chmodSync(join(stage, 'uninstall.sh'), 0o755);
  writeFileSync(join(stage, 'VERSION'), `${pkg.version}\n`);

  // Everything below runs the staged Node on the staged tree only: cwd in the tree, no NODE_PATH.
  const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' };
  const node = join(stage, 'node');
  const defaults = execFileSync(node, [join(stage, 'dist', 'linkward.mjs'), 'config', 'defaults'], { cwd: stage, env, encoding: 'utf8', timeout: STEP_TIMEOUT_MS });
  writeFileSync(join(stage, 'config.example.yaml'), defaults);
  const check = "const D=require(require('node:path').join(process.cwd(),'node_modules','better-sqlite3'));new D(':memory:').prepare('select 1 as x').get().x===1||process.exit(3)";
  try {
    execFileSync(node, ['-e', check], { cwd: stage, env, stdio: ['ignore', 'ignore', 'pipe'], timeout: STEP_TIMEOUT_MS });
  } catch (e) {
    fail(`better-sqlite3 does not load under the packaged Node (${String(e.stderr ?? e.message).trim()}); run npm ci (scripts/setup-runtime.mjs rebuilds it)`);
  }
}

/** tar (GNU, reproducible ordering and owners) piped through zlib gzip into `outFile`. */
async function tarball(parent, name, outFile) {
  const mtime = process.env.SOURCE_DATE_EPOCH ? `@${process.env.SOURCE_DATE_EPOCH}` : `@${Math.floor(Date.now() / 1000)}`;
  const tar = spawn('tar', ['-C', parent, '--sort=name', '--owner=0', '--group=0', '--numeric-owner', `--mtime=${mtime}`, '-cf', '-', name], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((res, rej) => {
    tar.on('error', rej);
    tar.on('exit', (code) => (code === 0 ? res() : rej(new Error(`tar exited ${code}`))));
  });
  const tmp = `${outFile}.partial`;
  await pipeline(tar.stdout, createGzip({ level: GZIP_LEVEL }), createWriteStream(tmp));
  await exited;
  // Rename last, so a reader never sees a half-written tarball under the final name.
  renameSync(tmp, outFile);
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const nodeBin = pinnedNode();
  if (o.build) execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit', timeout: STEP_TIMEOUT_MS });
  const name = `linkward-${pkg.version}-linux-${NODE_ARCH}`;
  if (o.stage) {
    stageTree(o.stage, nodeBin);
    console.log(`linkward release: staged ${name} in ${o.stage}`);
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'lw-release-'));
  try {
    stageTree(join(work, name), nodeBin);
    mkdirSync(o.outDir, { recursive: true });
    const out = join(o.outDir, `${name}.tar.gz`);
    await tarball(work, name, out);
    const mb = statSync(out).size / 1024 / 1024;
    console.log(`linkward release: ${out} (${mb.toFixed(1)} MiB)`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
