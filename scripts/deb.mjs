// .deb: packs a linkward release tree (scripts/release.mjs --stage) with dpkg-deb: unit, conffile, maintainer scripts.
//
//   node scripts/deb.mjs --tree DIR [--out-dir DIR] [--version V] [--compression xz|gzip|none]
//
// Layout: /usr/lib/linkward (the tree), /usr/bin/linkward (CLI wrapper), /lib/systemd/system/linkward.service,
// /etc/linkward/config.yaml (conffile: the operator's edits survive upgrades), /usr/share/doc/linkward,
// /usr/share/man/man1/linkward.1.gz. Maintainer scripts: packaging/deb/{postinst,prerm,postrm}.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const DEB_DIR = join(root, 'packaging', 'deb');
/** Debian architecture names of the tree's Node (the tree has no file saying it; `file` would need libmagic). */
const DEB_ARCH = { x64: 'amd64', arm64: 'arm64' };
/** ELF e_machine values: 62 = x86-64, 183 = AArch64. */
const ELF_MACHINE = { 62: 'x64', 183: 'arm64' };
/** Runtime libraries of the bundled node (glibc 2.28, GLIBCXX_3.4.21) and better-sqlite3's prebuild (glibc 2.34). */
/** strip for the tree's architecture (Debian's binutils / binutils-aarch64-linux-gnu). */
const STRIP = { x64: 'strip', arm64: 'aarch64-linux-gnu-strip' };
const DEPENDS = 'libc6 (>= 2.34), libgcc-s1, libstdc++6 (>= 5.2), passwd, init-system-helpers (>= 1.62)';
/** What the features call: ip/nft (route switching), ping (ICMP probes), conntrack (flows after a switch). */
const RECOMMENDS = 'iproute2, iputils-ping, nftables, conntrack';
/** Maintainer field: Debian's usual DEBFULLNAME/DEBEMAIL when set, else a placeholder a release should replace. */
const MAINTAINER = `${process.env.DEBFULLNAME ?? 'linkward maintainers'} <${process.env.DEBEMAIL ?? 'linkward@example.com'}>`;

function parseArgs(argv) {
  const o = { tree: null, outDir: join(root, 'dist'), version: pkg.version, compression: 'xz' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--tree') o.tree = resolve(argv[++i] ?? '');
    else if (a === '--out-dir') o.outDir = resolve(argv[++i] ?? '');
    else if (a === '--version') o.version = argv[++i] ?? '';
    else if (a === '--compression') o.compression = argv[++i] ?? '';
    else throw new Error(`unknown argument ${a} (usage: deb.mjs --tree DIR [--out-dir DIR] [--version V] [--compression xz|gzip|none])`);
  }
  if (!o.tree || !existsSync(join(o.tree, 'node'))) throw new Error('--tree must be a release tree (scripts/release.mjs --stage DIR)');
  if (!/^[0-9][A-Za-z0-9.+~-]*$/.test(o.version)) throw new Error(`bad Debian version ${o.version}`);
  return o;
}

/** Architecture of the tree's node binary, read from its ELF header. */
export function treeArch(tree) {
  const head = readFileSync(join(tree, 'node')).subarray(0, 20);
  const arch = ELF_MACHINE[head.readUInt16LE(18)];
  if (!arch) throw new Error(`unsupported node binary (ELF machine ${head.readUInt16LE(18)})`);
  return arch;
}

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

function write(path, text, mode = 0o644) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  chmodSync(path, mode);
}

function manPage(version) {
  return `.TH LINKWARD 1 "" "linkward ${version}" "User Commands"
.SH NAME
linkward \\- keeps k3s edge nodes useful on bad networks
.SH SYNOPSIS
.B linkward
.I command
.RI [ options ]
.SH DESCRIPTION
The agent (\\fBlinkward run\\fR, started by linkward.service) measures each uplink, decides whether the node's link is
healthy, degraded or down, and acts on it: node labels, taints and conditions in Kubernetes, default-route failover,
paced telemetry. The other commands ask the running agent: \\fBstatus\\fR, \\fBcheck\\fR, \\fBwait\\fR, \\fBroute\\fR,
\\fBconfig defaults\\fR, \\fBconfig validate\\fR. Run \\fBlinkward --help\\fR or \\fBlinkward\\fR \\fIcommand\\fR \\fB--help\\fR.
.SH FILES
/etc/linkward/config.yaml, /var/lib/linkward, /usr/lib/linkward/docs/OPERATIONS.md
`;
}

/** Lays out the package root in `pkgRoot` from the release tree. */
function layout(tree, pkgRoot, version, arch) {
  const lib = join(pkgRoot, 'usr', 'lib', 'linkward');
  cpSync(tree, lib, { recursive: true });
  // The .deb does what install.sh/uninstall.sh do; the bundles run through the packaged node, never as scripts.
  for (const f of ['install.sh', 'uninstall.sh']) rmSync(join(lib, f), { force: true });
  // The bundle is only ever run as `/usr/lib/linkward/node dist/linkward.mjs` (wrapper, unit): its `#!/usr/bin/env
  // node` line would ask for Debian's nodejs, so it becomes an empty comment line (line numbers and sourcemap stay).
  const bundle = join(lib, 'dist', 'linkward.mjs');
  writeFileSync(bundle, readFileSync(bundle, 'utf8').replace(/^#!.*\n/, '//\n'));
  const executable = new Set([join(lib, 'node')]);
  for (const f of walk(lib)) chmodSync(f, executable.has(f) ? 0o755 : 0o644);
  // Native addons lose their symbol tables like dh_strip would do; node stays byte-identical to the npm package.
  for (const f of walk(lib).filter((x) => x.endsWith('.node'))) execFileSync(STRIP[arch], ['--strip-unneeded', f]);
  write(
    join(pkgRoot, 'usr', 'bin', 'linkward'),
    `#!/bin/sh\n# linkward CLI (package ${version}): the packaged Node on the bundle.\nexec /usr/lib/linkward/node /usr/lib/linkward/dist/linkward.mjs "$@"\n`,
    0o755,
  );
  const unitDir = join(pkgRoot, 'lib', 'systemd', 'system');
  mkdirSync(unitDir, { recursive: true });
  copyFileSync(join(tree, 'systemd', 'linkward.service'), join(unitDir, 'linkward.service'));
  chmodSync(join(unitDir, 'linkward.service'), 0o644);
  // 0644 in the archive (Debian's conffile norm); postinst makes it root:linkward 0640 on first install.
  write(join(pkgRoot, 'etc', 'linkward', 'config.yaml'), readFileSync(join(tree, 'config.example.yaml')));
  const doc = join(pkgRoot, 'usr', 'share', 'doc', 'linkward');
  write(join(doc, 'copyright'), readFileSync(join(DEB_DIR, 'copyright')));
  const date = new Date(Number(process.env.SOURCE_DATE_EPOCH ?? Math.floor(Date.now() / 1000)) * 1000).toUTCString().replace('GMT', '+0000');
  const changelog = `linkward (${version}) unstable; urgency=medium\n\n  * Release ${version}.\n\n -- ${MAINTAINER}  ${date}\n`;
  // A native package (no Debian revision): its changelog is changelog.gz.
  write(join(doc, 'changelog.gz'), gzipSync(changelog, { level: 9 }));
  write(join(pkgRoot, 'usr', 'share', 'man', 'man1', 'linkward.1.gz'), gzipSync(manPage(version), { level: 9 }));
  write(join(pkgRoot, 'usr', 'share', 'lintian', 'overrides', 'linkward'), readFileSync(join(DEB_DIR, 'lintian-overrides')));
  for (const d of walk(pkgRoot).map((f) => dirname(f))) chmodSync(d, 0o755);
  chmodSync(join(pkgRoot, 'etc', 'linkward'), 0o755);
}

function control(pkgRoot, version, arch) {
  const ctl = join(pkgRoot, 'DEBIAN');
  mkdirSync(ctl, { recursive: true });
  const files = walk(pkgRoot).filter((f) => !f.startsWith(ctl + '/'));
  const installedKiB = Math.ceil(files.reduce((n, f) => n + statSync(f).size, 0) / 1024);
  write(
    join(ctl, 'control'),
    [
      'Package: linkward',
      `Version: ${version}`,
      `Architecture: ${DEB_ARCH[arch]}`,
      `Maintainer: ${MAINTAINER}`,
      `Installed-Size: ${installedKiB}`,
      `Depends: ${DEPENDS}`,
      `Recommends: ${RECOMMENDS}`,
      'Section: net',
      'Priority: optional',
      'Description: keeps k3s edge nodes useful on bad networks',
      ' linkward measures each uplink (latency, loss, throughput), decides per node',
      ' whether the link is healthy, degraded or down, and acts on it: Kubernetes',
      ' node labels, taints and conditions, default-route failover to a backup',
      ' uplink, and a store-and-forward telemetry buffer. Ships its own Node.js 24.',
      '',
    ].join('\n'),
  );
  write(join(ctl, 'conffiles'), '/etc/linkward/config.yaml\n');
  for (const s of ['postinst', 'prerm', 'postrm']) write(join(ctl, s), readFileSync(join(DEB_DIR, s)), 0o755);
  const md5 = files
    .filter((f) => !f.startsWith(join(pkgRoot, 'etc') + '/'))
    .map((f) => `${createHash('md5').update(readFileSync(f)).digest('hex')}  ${relative(pkgRoot, f)}`);
  write(join(ctl, 'md5sums'), md5.sort().join('\n') + '\n');
}

export function buildDeb(o) {
  const arch = treeArch(o.tree);
  const work = mkdtempSync(join(tmpdir(), 'lw-deb-'));
  try {
    const pkgRoot = join(work, 'root');
    layout(o.tree, pkgRoot, o.version, arch);
    control(pkgRoot, o.version, arch);
    mkdirSync(o.outDir, { recursive: true });
    const out = join(o.outDir, `linkward_${o.version}_${DEB_ARCH[arch]}.deb`);
    // --root-owner-group: every file root:root without fakeroot. xz (default level) for releases: 30 MiB, ~75 s here;
    // gzip -1 for tests (lintian refuses uncompressed members): ~45 MiB in a few seconds; none: only for dpkg tests.
    const z = o.compression === 'gzip' ? ['-Zgzip', '-z1'] : [`-Z${o.compression}`];
    execFileSync('dpkg-deb', ['--root-owner-group', ...z, '--build', pkgRoot, `${out}.partial`], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 600_000 });
    renameSync(`${out}.partial`, out);
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const o = parseArgs(process.argv.slice(2));
  const out = buildDeb(o);
  console.log(`linkward deb: ${out} (${(statSync(out).size / 1048576).toFixed(1)} MiB)`);
}
