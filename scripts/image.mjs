// OCI image without a Docker daemon: release trees plus Debian's glibc/libstdc++ files, laid out and packed by umoci.
//
//   node scripts/image.mjs --tree DIR [--tree DIR2] [--out DIR] [--tag VERSION]
//
// One image per --tree (x64 or arm64 release tree, `scripts/release.mjs [--arch A] --stage DIR`; the architecture is
// read from the tree's node binary), tagged VERSION-<arch>, and an OCI image index tagged VERSION that lists them with
// their platforms, so `VERSION` resolves to the right image on each node.
// Rootfs: /usr/lib/linkward (the release tree, its own Node), /usr/bin/linkward (CLI without a shell), the runtime
// libraries the node binary and better-sqlite3's prebuild link against, copied from installed Debian packages
// (the host's own: libc6 ...; another architecture's: Debian's libc6-arm64-cross ..., the packages the arm64 cross
// build already needs; nothing is pulled from a registry), /etc/passwd with an unprivileged user, /etc/linkward/config.yaml.
// No shell, no package manager. Default user 65532 (CLI, probe server); the DaemonSet runs it as root (capabilities).
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unitEnv, unitFlags } from './bench/unit-runtime.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
/** Debian packages whose shared objects the node binary (glibc, libstdc++, libgcc_s) and the addons need. */
const LIB_PACKAGES = ['libc6', 'libgcc-s1', 'libstdc++6'];
/**
 * Per OCI architecture: ELF e_machine of its node binary, Debian's name, multiarch triplet and the program interpreter
 * the node binary asks for (PT_INTERP), which must exist at that path in the rootfs.
 */
export const ARCHES = {
  amd64: { elf: 62, deb: 'amd64', triplet: 'x86_64-linux-gnu', interp: '/lib64/ld-linux-x86-64.so.2' },
  arm64: { elf: 183, deb: 'arm64', triplet: 'aarch64-linux-gnu', interp: '/lib/ld-linux-aarch64.so.1' },
};
/** Unprivileged default user (the distroless "nonroot" id), for the CLI and the probe server. */
const NONROOT = 65532;
/** umoci packs ~130 MB of rootfs in ~10 s here; slow disks get a generous bound. */
const STEP_TIMEOUT_MS = 300_000;
const MEDIA_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const MEDIA_INDEX = 'application/vnd.oci.image.index.v1+json';
const REF_NAME = 'org.opencontainers.image.ref.name';

function parseArgs(argv) {
  const o = { trees: [], out: join(root, 'dist', 'oci'), tag: pkg.version };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--tree') o.trees.push(resolve(argv[++i] ?? ''));
    else if (a === '--out') o.out = resolve(argv[++i] ?? '');
    else if (a === '--tag') o.tag = argv[++i] ?? '';
    else throw new Error(`unknown argument ${a} (usage: image.mjs --tree DIR [--tree DIR2] [--out DIR] [--tag VERSION])`);
  }
  if (!o.trees.length || o.trees.some((t) => !existsSync(join(t, 'node'))))
    throw new Error('--tree must be a release tree (scripts/release.mjs [--arch A] --stage DIR)');
  return o;
}

/** OCI architecture of a release tree, from its node binary's ELF header (e_machine). */
export function treeArch(tree) {
  const head = Buffer.alloc(20);
  const fd = openSync(join(tree, 'node'), 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const machine = head.readUInt16LE(18); // e_machine; the first 20 bytes, not the ~120 MB binary
  const arch = Object.keys(ARCHES).find((a) => ARCHES[a].elf === machine);
  if (!arch) throw new Error(`${tree}/node: unsupported ELF machine ${machine}`);
  return arch;
}

const debArch = () => execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();

/** Copies one file of an installed package to `to` in the rootfs, keeping symlinks as symlinks. */
function copyPath(path, to) {
  const st = lstatSync(path);
  if (st.isDirectory()) return;
  mkdirSync(dirname(to), { recursive: true });
  if (lstatSync(to, { throwIfNoEntry: false })) return;
  if (st.isSymbolicLink()) symlinkSync(readlinkSync(path), to);
  else cpSync(path, to, { preserveTimestamps: true });
}

/**
 * The shared objects for `arch` (no docs, no locales, no gconv modules the agent never loads): the host's own
 * packages at their own paths, or Debian's <pkg>-<arch>-cross packages (files under /usr/<triplet>/lib) moved to
 * /usr/lib/<triplet>, the multiarch directory the target's loader searches, plus its interpreter path.
 */
function copyLibraries(rootfs, arch) {
  const a = ARCHES[arch];
  const native = debArch() === a.deb;
  for (const p of LIB_PACKAGES) {
    const name = native ? p : `${p}-${a.deb}-cross`;
    const listed = execFileSync('dpkg', ['-L', name], { encoding: 'utf8' }).split('\n');
    for (const f of listed) {
      if (native ? !/^\/(lib|lib64|usr\/lib)\//.test(f) || /\/gconv\/|\/audit\/|\/share\//.test(f) : !f.startsWith(`/usr/${a.triplet}/lib/`)) continue;
      if (!lstatSync(f, { throwIfNoEntry: false })) continue;
      copyPath(f, join(rootfs, native ? f : join('usr', 'lib', a.triplet, basename(f))));
    }
  }
  if (!native) {
    const interp = join(rootfs, a.interp);
    mkdirSync(dirname(interp), { recursive: true });
    // Relative, so it resolves inside the rootfs also when it is not the root (qemu -L, umoci unpack dirs).
    if (!lstatSync(interp, { throwIfNoEntry: false })) symlinkSync(relative(dirname(a.interp), `/usr/lib/${a.triplet}/${basename(a.interp)}`), interp);
  }
  if (!existsSync(join(rootfs, a.interp)))
    throw new Error(`${arch}: no ${a.interp} in the rootfs (apt-get install ${native ? 'libc6' : `libc6-${a.deb}-cross`})`);
}

function write(path, text, mode = 0o644) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  chmodSync(path, mode);
}

function layout(tree, rootfs, arch) {
  const lib = join(rootfs, 'usr', 'lib', 'linkward');
  cpSync(tree, lib, { recursive: true });
  for (const f of ['install.sh', 'uninstall.sh']) rmSync(join(lib, f), { force: true });
  copyLibraries(rootfs, arch);
  // No shell in the image: the CLI is a script for the packaged node itself (one #! argument is all Linux passes).
  write(
    join(rootfs, 'usr', 'bin', 'linkward'),
    "#!/usr/lib/linkward/node\nimport('/usr/lib/linkward/dist/linkward.mjs').then((m) => m.run(process.argv));\n",
    0o755,
  );
  write(
    join(rootfs, 'etc', 'passwd'),
    `root:x:0:0:root:/root:/usr/sbin/nologin\nlinkward:x:${NONROOT}:${NONROOT}:linkward:/var/lib/linkward:/usr/sbin/nologin\n`,
  );
  write(join(rootfs, 'etc', 'group'), `root:x:0:\nlinkward:x:${NONROOT}:\n`);
  write(join(rootfs, 'etc', 'linkward', 'config.yaml'), readFileSync(join(tree, 'config.example.yaml')));
  for (const [d, mode] of /** @type {[string, number][]} */ ([
    ['tmp', 0o1777],
    ['var/lib/linkward', 0o750],
  ])) {
    mkdirSync(join(rootfs, d), { recursive: true });
    chmodSync(join(rootfs, d), mode);
  }
  execFileSync('chown', [`${NONROOT}:${NONROOT}`, join(rootfs, 'var', 'lib', 'linkward')]);
}

function umoci(args) {
  return execFileSync('umoci', args, { encoding: 'utf8', timeout: STEP_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'inherit'] });
}

/** One single-architecture image from `tree`, tagged `ref`, in the layout `out`. */
function buildOne(_out, ref, tree, arch, tag, work) {
  const bundle = join(work, `bundle-${arch}`);
  umoci(['new', '--image', ref]);
  umoci(['unpack', '--image', ref, bundle]);
  layout(tree, join(bundle, 'rootfs'), arch);
  umoci(['repack', '--image', ref, bundle]);
  rmSync(bundle, { recursive: true, force: true });
  // The unit's Node flags and environment (malloc settings), so the container runs what
  // `npm run bench:footprint` measured under systemd.
  const entry = ['/usr/lib/linkward/node', ...unitFlags(), '/usr/lib/linkward/dist/linkward.mjs'].flatMap((a) => ['--config.entrypoint', a]);
  const env = { PATH: '/usr/bin:/usr/lib/linkward', ...unitEnv(), STATE_DIRECTORY: '/var/lib/linkward' };
  umoci([
    'config',
    '--image',
    ref,
    '--architecture',
    arch,
    '--os',
    'linux',
    '--config.user',
    `${NONROOT}:${NONROOT}`,
    ...entry,
    '--config.cmd',
    'run',
    ...Object.entries(env).flatMap(([k, v]) => ['--config.env', `${k}=${v}`]),
    '--config.workingdir',
    '/var/lib/linkward',
    '--config.label',
    `org.opencontainers.image.version=${tag}`,
    '--config.label',
    'org.opencontainers.image.title=linkward',
  ]);
}

/** Writes `json` as a content-addressed blob of the layout; returns its descriptor (digest, size). */
function putBlob(out, json) {
  const bytes = Buffer.from(JSON.stringify(json));
  const hex = createHash('sha256').update(bytes).digest('hex');
  writeFileSync(join(out, 'blobs', 'sha256', hex), bytes);
  return { digest: `sha256:${hex}`, size: bytes.length };
}

/**
 * Adds an OCI image index tagged `tag` listing each architecture's manifest with its platform, so a runtime pulling
 * `linkward:<tag>` gets the image for its node. The per-architecture tags stay (umoci unpack, debugging).
 */
function writeIndex(out, tag, arches) {
  const layoutIndex = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8'));
  const manifests = arches.map((arch) => {
    const d = layoutIndex.manifests.find((m) => m.annotations?.[REF_NAME] === `${tag}-${arch}`);
    if (!d) throw new Error(`no manifest tagged ${tag}-${arch}`);
    return { mediaType: MEDIA_MANIFEST, digest: d.digest, size: d.size, platform: { architecture: arch, os: 'linux' } };
  });
  const index = putBlob(out, { schemaVersion: 2, mediaType: MEDIA_INDEX, manifests, annotations: { 'org.opencontainers.image.version': tag } });
  layoutIndex.manifests = [
    ...layoutIndex.manifests.filter((m) => m.annotations?.[REF_NAME] !== tag),
    { mediaType: MEDIA_INDEX, ...index, annotations: { [REF_NAME]: tag } },
  ];
  writeFileSync(join(out, 'index.json'), JSON.stringify(layoutIndex));
}

/** Builds one image per tree and the index over them; returns [{ arch, ref }] and the index ref. */
export function buildImage(o) {
  const work = mkdtempSync(join(tmpdir(), 'lw-image-'));
  try {
    const arches = o.trees.map(treeArch);
    if (new Set(arches).size !== arches.length) throw new Error(`one --tree per architecture (got ${arches.join(', ')})`);
    rmSync(o.out, { recursive: true, force: true });
    umoci(['init', '--layout', o.out]);
    const images = o.trees.map((tree, i) => {
      const ref = `${o.out}:${o.tag}-${arches[i]}`;
      buildOne(o.out, ref, tree, arches[i], o.tag, work);
      return { arch: arches[i], ref };
    });
    umoci(['gc', '--layout', o.out]);
    writeIndex(o.out, o.tag, arches);
    return { images, index: `${o.out}:${o.tag}` };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Compressed size of one image's layers (what a node pulls), in bytes. */
export function layerBytes(out, arch, tag) {
  const layoutIndex = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8'));
  const d = layoutIndex.manifests.find((m) => m.annotations?.[REF_NAME] === `${tag}-${arch}`);
  const manifest = JSON.parse(readFileSync(join(out, 'blobs', ...d.digest.split(':')), 'utf8'));
  return manifest.layers.reduce((n, l) => n + l.size, 0);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const o = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const { images, index } = buildImage(o);
  for (const { arch, ref } of images) console.log(`linkward image: ${ref} (${arch}, ${(layerBytes(o.out, arch, o.tag) / 1048576).toFixed(1)} MiB compressed)`);
  const bytes = Number(execFileSync('du', ['-sb', join(o.out, 'blobs')], { encoding: 'utf8' }).split('\t')[0]);
  console.log(
    `linkward image: ${index} (OCI index: ${images.map((i) => i.arch).join(', ')}; layout ${(bytes / 1048576).toFixed(1)} MiB, ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
}
