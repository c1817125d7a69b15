// Release: builds dist/linkward-<version>-linux-<arch>.tar.gz, a self-contained tree (pinned Node, bundle, native addons, unit, installer).
//
//   node scripts/release.mjs [--arch x64|arm64] [--out-dir DIR] [--stage DIR] [--no-build]
//
// --arch A      target architecture (default: this machine's); another one takes the pinned Node version's npm
//               package for it, cross-compiles the sd_notify addon and runs the checks under qemu-user-static
// --stage DIR   only lay the tree out in DIR (no tarball); the install tests use it
// --no-build    package the existing dist/linkward.mjs instead of rebuilding it
//
// Every tree is checked before it is packed: its own Node prints the config defaults, loads better-sqlite3, and runs
// the daemon until /healthz answers (scripts/release-check.mjs). A tree that fails is never packed.
//
// Tree (prefix linkward-<version>-linux-<arch>/), installed as /usr/lib/linkward by install.sh:
//   node  dist/linkward.mjs  dist/kube-client.mjs (the full Kubernetes client, loaded on demand)  node_modules/better-sqlite3 (lib + the N-API prebuild for this platform)
//   agent/native/build/Release/lw_native.node  systemd/  docs/OPERATIONS.md
//   config.example.yaml  install.sh  uninstall.sh  VERSION
import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import { checkStarts } from './release-check.mjs';
import { TARGETS, hostArch, nodeRuntime, notifyAddon, runner } from './release-target.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
/** Packaging commands (build, config defaults, load check) finish in seconds; bound them for slow devices. */
const STEP_TIMEOUT_MS = 180_000;
/** gzip level 6: 9 takes ~2x the time for < 1 % on the Node binary, which is most of the tarball. */
const GZIP_LEVEL = 6;

/**
 * Files copied from better-sqlite3: only what `require('better-sqlite3')` loads. better-sqlite3 13 ships N-API
 * prebuilds for every platform inside its npm package (any Node version): the target's is picked, nothing compiles.
 */
const runtimePackages = (arch) => ({
  'better-sqlite3': ['package.json', 'LICENSE', 'lib', `prebuilds/linux-${arch}.node`],
});

function parseArgs(argv) {
  const o = { outDir: join(root, 'dist'), stage: null, build: true, arch: hostArch() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out-dir') o.outDir = resolve(argv[++i] ?? '');
    else if (a === '--stage') o.stage = resolve(argv[++i] ?? '');
    else if (a === '--no-build') o.build = false;
    else if (a === '--arch') o.arch = argv[++i] ?? '';
    else throw new Error(`unknown argument ${a} (usage: release.mjs [--arch x64|arm64] [--out-dir DIR] [--stage DIR] [--no-build])`);
  }
  if (!TARGETS[o.arch]) throw new Error(`unsupported --arch ${o.arch} (x64 or arm64)`);
  return o;
}

/** Stops the release; main() reports it and exits 1 after its temporary directories are removed. */
function fail(msg) {
  throw new Error(msg);
}

function copyInto(stage, rel, from = join(root, rel)) {
  if (!existsSync(from)) fail(`missing ${from}`);
  const to = join(stage, rel);
  mkdirSync(dirname(to), { recursive: true });
  if (statSync(from).isDirectory()) cpSync(from, to, { recursive: true, dereference: true });
  else copyFileSync(from, to);
}

/** Lays the release tree for `arch` out in `stage` and checks it runs on its own Node. */
async function stageTree(stage, arch, work) {
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  const runtime = nodeRuntime(root, arch, work);
  copyFileSync(runtime.bin, join(stage, 'node'));
  chmodSync(join(stage, 'node'), 0o755);
  copyInto(stage, 'dist/linkward.mjs');
  copyInto(stage, 'dist/kube-client.mjs');
  for (const [name, files] of Object.entries(runtimePackages(arch))) {
    for (const f of files) copyInto(stage, join('node_modules', name, f));
  }
  // agent/systemd/notify.ts looks for the addon at ../agent/native/build/Release/ relative to dist/.
  const addon = notifyAddon(root, arch, runtime, work);
  if (addon) copyInto(stage, 'agent/native/build/Release/lw_native.node', addon);
  else
    console.warn(
      `linkward release: no ${TARGETS[arch].gcc}: ${arch} tree without the sd_notify addon; the unit then needs systemd/linkward.service.d/20-notify-fallback.conf.example`,
    );
  copyInto(stage, 'systemd');
  copyInto(stage, 'docs/OPERATIONS.md');
  copyInto(stage, 'install.sh', join(root, 'scripts', 'install.sh'));
  copyInto(stage, 'uninstall.sh', join(root, 'scripts', 'uninstall.sh'));
  chmodSync(join(stage, 'install.sh'), 0o755);
  chmodSync(join(stage, 'uninstall.sh'), 0o755);
  writeFileSync(join(stage, 'VERSION'), `${pkg.version}\n`);

  // Everything below runs the staged Node on the staged tree only: cwd in the tree, no NODE_PATH.
  const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' };
  const [run0, ...runRest] = [...runner(arch), join(stage, 'node')];
  const defaults = execFileSync(run0, [...runRest, join(stage, 'dist', 'linkward.mjs'), 'config', 'defaults'], {
    cwd: stage,
    env,
    encoding: 'utf8',
    timeout: STEP_TIMEOUT_MS,
  });
  writeFileSync(join(stage, 'config.example.yaml'), defaults);
  const check =
    "const D=require(require('node:path').join(process.cwd(),'node_modules','better-sqlite3'));new D(':memory:').prepare('select 1 as x').get().x===1||process.exit(3)";
  try {
    execFileSync(run0, [...runRest, '-e', check], { cwd: stage, env, stdio: ['ignore', 'ignore', 'pipe'], timeout: STEP_TIMEOUT_MS });
  } catch (e) {
    fail(`better-sqlite3 does not load under the packaged Node (${String(e.stderr ?? e.message).trim()}); run npm ci (scripts/setup-runtime.mjs rebuilds it)`);
  }
  const { readyMs } = await checkStarts(stage, runner(arch));
  console.log(`linkward release: ${arch} tree starts and answers /healthz (ready in ${readyMs} ms${arch === hostArch() ? '' : ' under qemu'})`);
}

/** tar (GNU, reproducible ordering and owners) piped through zlib gzip into `outFile`. */
async function tarball(parent, name, outFile) {
  const mtime = process.env.SOURCE_DATE_EPOCH ? `@${process.env.SOURCE_DATE_EPOCH}` : `@${Math.floor(Date.now() / 1000)}`;
  const tar = spawn('tar', ['-C', parent, '--sort=name', '--owner=0', '--group=0', '--numeric-owner', `--mtime=${mtime}`, '-cf', '-', name], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
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
  if (o.build) execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit', timeout: STEP_TIMEOUT_MS });
  const name = `linkward-${pkg.version}-linux-${o.arch}`;
  const work = mkdtempSync(join(tmpdir(), 'lw-release-'));
  try {
    if (o.stage) {
      await stageTree(o.stage, o.arch, work);
      console.log(`linkward release: staged ${name} in ${o.stage}`);
      return;
    }
    await stageTree(join(work, name), o.arch, work);
    mkdirSync(o.outDir, { recursive: true });
    const out = join(o.outDir, `${name}.tar.gz`);
    await tarball(work, name, out);
    const mb = statSync(out).size / 1024 / 1024;
    console.log(`linkward release: ${out} (${mb.toFixed(1)} MiB)`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (e) {
  console.error(`linkward release: ${e.message}`);
  process.exitCode = 1;
}
