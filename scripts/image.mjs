// OCI image without a Docker daemon: a release tree plus Debian's glibc/libstdc++ files, laid out and packed by umoci.
//
//   node scripts/image.mjs --tree DIR [--out DIR] [--tag VERSION]
//
// Rootfs: /usr/lib/linkward (the release tree, its own Node), /usr/bin/linkward (CLI without a shell), the runtime
// libraries the node binary and better-sqlite3's prebuild link against, copied from the installed Debian packages
// (dpkg -L; nothing is pulled from a registry), /etc/passwd with an unprivileged user, /etc/linkward/config.yaml.
// No shell, no package manager. Default user 65532 (CLI, probe server); the DaemonSet runs it as root (capabilities).
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unitFlags } from './bench/unit-runtime.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
/** Debian packages whose shared objects the node binary (glibc, libstdc++, libgcc_s) and the addons need. */
const LIB_PACKAGES = ['libc6', 'libgcc-s1', 'libstdc++6'];
/** Unprivileged default user (the distroless "nonroot" id), for the CLI and the probe server. */
const NONROOT = 65532;
/** umoci packs ~130 MB of rootfs in ~10 s here; slow disks get a generous bound. */
const STEP_TIMEOUT_MS = 300_000;

function parseArgs(argv) {
  const o = { tree: null, out: join(root, 'dist', 'oci'), tag: pkg.version };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--tree') o.tree = resolve(argv[++i] ?? '');
    else if (a === '--out') o.out = resolve(argv[++i] ?? '');
    else if (a === '--tag') o.tag = argv[++i] ?? '';
    else throw new Error(`unknown argument ${a} (usage: image.mjs --tree DIR [--out DIR] [--tag VERSION])`);
  }
  if (!o.tree || !existsSync(join(o.tree, 'node'))) throw new Error('--tree must be an x64 release tree (scripts/release.mjs --stage DIR)');
  return o;
}

/** Copies one path of an installed package into the rootfs, keeping symlinks as symlinks. */
function copyPath(path, rootfs) {
  const to = join(rootfs, path);
  const st = lstatSync(path);
  if (st.isDirectory()) return;
  mkdirSync(dirname(to), { recursive: true });
  if (existsSync(to) || lstatSync(to, { throwIfNoEntry: false })) return;
  if (st.isSymbolicLink()) symlinkSync(readlinkSync(path), to);
  else cpSync(path, to, { preserveTimestamps: true });
}

/** The shared objects of the Debian packages (no docs, no locales, no gconv modules the agent never loads). */
function copyLibraries(rootfs) {
  for (const p of LIB_PACKAGES) {
    const files = execFileSync('dpkg', ['-L', p], { encoding: 'utf8' }).split('\n');
    for (const f of files) {
      if (!/^\/(lib|lib64|usr\/lib)\//.test(f) || /\/gconv\/|\/audit\/|\/share\//.test(f)) continue;
      if (!existsSync(f) && !lstatSync(f, { throwIfNoEntry: false })) continue;
      copyPath(f, rootfs);
    }
  }
}

function write(path, text, mode = 0o644) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  chmodSync(path, mode);
}

function layout(tree, rootfs) {
  const lib = join(rootfs, 'usr', 'lib', 'linkward');
  cpSync(tree, lib, { recursive: true });
  for (const f of ['install.sh', 'uninstall.sh']) rmSync(join(lib, f), { force: true });
  copyLibraries(rootfs);
  // No shell in the image: the CLI is a script for the packaged node itself (one #! argument is all Linux passes).
  write(join(rootfs, 'usr', 'bin', 'linkward'), "#!/usr/lib/linkward/node\nimport('/usr/lib/linkward/dist/linkward.mjs').then((m) => m.run(process.argv));\n", 0o755);
  write(join(rootfs, 'etc', 'passwd'), `root:x:0:0:root:/root:/usr/sbin/nologin\nlinkward:x:${NONROOT}:${NONROOT}:linkward:/var/lib/linkward:/usr/sbin/nologin\n`);
  write(join(rootfs, 'etc', 'group'), `root:x:0:\nlinkward:x:${NONROOT}:\n`);
  write(join(rootfs, 'etc', 'linkward', 'config.yaml'), readFileSync(join(tree, 'config.example.yaml')));
  for (const [d, mode] of [['tmp', 0o1777], ['var/lib/linkward', 0o750]]) {
    mkdirSync(join(rootfs, d), { recursive: true });
    chmodSync(join(rootfs, d), mode);
  }
  execFileSync('chown', [`${NONROOT}:${NONROOT}`, join(rootfs, 'var', 'lib', 'linkward')]);
}

function umoci(args) {
  return execFileSync('umoci', args, { encoding: 'utf8', timeout: STEP_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'inherit'] });
}

export function buildImage(o) {
  const work = mkdtempSync(join(tmpdir(), 'lw-image-'));
  try {
    const bundle = join(work, 'bundle');
    const ref = `${o.out}:${o.tag}`;
    rmSync(o.out, { recursive: true, force: true });
    umoci(['init', '--layout', o.out]);
    umoci(['new', '--image', ref]);
    umoci(['unpack', '--image', ref, bundle]);
    layout(o.tree, join(bundle, 'rootfs'));
    umoci(['repack', '--image', ref, bundle]);
    // The unit's Node flags, so the container runs what `npm run bench:footprint` measured.
    const entry = ['/usr/lib/linkward/node', ...unitFlags(), '/usr/lib/linkward/dist/linkward.mjs'].flatMap((a) => ['--config.entrypoint', a]);
    umoci(['config', '--image', ref, '--architecture', 'amd64', '--os', 'linux', '--config.user', `${NONROOT}:${NONROOT}`, ...entry, '--config.cmd', 'run',
      '--config.env', 'PATH=/usr/bin:/usr/lib/linkward', '--config.env', 'NODE_ENV=production', '--config.env', 'MALLOC_ARENA_MAX=2',
      '--config.env', 'STATE_DIRECTORY=/var/lib/linkward', '--config.workingdir', '/var/lib/linkward',
      '--config.label', `org.opencontainers.image.version=${o.tag}`, '--config.label', 'org.opencontainers.image.title=linkward']);
    umoci(['gc', '--layout', o.out]);
    return ref;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const o = parseArgs(process.argv.slice(2));
  const ref = buildImage(o);
  const bytes = Number(execFileSync('du', ['-sb', join(o.out, 'blobs')], { encoding: 'utf8' }).split('\t')[0]);
  console.log(`linkward image: ${ref} (OCI layout, ${(bytes / 1048576).toFixed(1)} MiB compressed)`);
}
