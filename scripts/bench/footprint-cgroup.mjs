// Footprint under a memory limit: a throwaway cgroup (v2 memory.max, or v1 memory.limit_in_bytes) for one process.
//
// The cgroup is made below the bench's own cgroup and removed afterwards. A page is charged to the cgroup that first
// brings it into the page cache, so the node binary would be "free" inside the limit if this machine had already
// read it: each run therefore starts a fresh copy of the binary with its cache dropped, so its pages are faulted in,
// and charged, inside the limit, as on a device where nothing else runs Node.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const V2_ROOT = '/sys/fs/cgroup';
const V1_MEMORY_ROOT = '/sys/fs/cgroup/memory';
/** Moves itself into the cgroup (argument 1), then execs the command: the limit applies from the first page on. */
const ENTER_AND_EXEC = 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"';

/** Which cgroup version this machine gives us, and the directory of our own memory cgroup. */
export function ownMemoryCgroup() {
  const lines = readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n');
  if (existsSync(join(V2_ROOT, 'cgroup.controllers'))) {
    const path = lines.find((l) => l.startsWith('0::'))?.slice(3) ?? '/';
    return { version: 2, dir: join(V2_ROOT, path) };
  }
  const mem = lines.map((l) => l.split(':')).find(([, ctrls]) => ctrls?.split(',').includes('memory'));
  if (!mem || !existsSync(V1_MEMORY_ROOT)) throw new Error('no cgroup memory controller on this machine');
  return { version: 1, dir: join(V1_MEMORY_ROOT, mem[2] ?? '/') };
}

/** Parses 96M / 80M / 100000000 into bytes. */
export function parseLimit(text) {
  const m = /^(\d+)([KMG]?)$/i.exec(text.trim());
  if (!m) throw new Error(`bad memory limit ${text} (e.g. 96M)`);
  return Number(m[1]) * { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2].toUpperCase()];
}

/** Creates a child cgroup limited to `bytes` (no swap either); returns its handle. */
export function createLimitedCgroup(name, bytes) {
  const own = ownMemoryCgroup();
  const dir = join(own.dir, name);
  if (own.version === 2) {
    // Our own cgroup must delegate the memory controller to children (v2: no processes in inner nodes with controllers).
    const sub = readFileSync(join(own.dir, 'cgroup.subtree_control'), 'utf8');
    if (!sub.split(/\s+/).includes('memory')) writeFileSync(join(own.dir, 'cgroup.subtree_control'), '+memory');
  }
  mkdirSync(dir);
  if (own.version === 2) {
    writeFileSync(join(dir, 'memory.max'), String(bytes));
    if (existsSync(join(dir, 'memory.swap.max'))) writeFileSync(join(dir, 'memory.swap.max'), '0');
  } else {
    writeFileSync(join(dir, 'memory.limit_in_bytes'), String(bytes));
  }
  const current = () => Number(readFileSync(join(dir, own.version === 2 ? 'memory.current' : 'memory.usage_in_bytes'), 'utf8'));
  /** Bytes of the charge that are file pages (the node binary, the bundle) vs anonymous. */
  const split = () => {
    const stat = Object.fromEntries(
      readFileSync(join(dir, 'memory.stat'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(' ')),
    );
    return own.version === 2 ? { file: Number(stat.file), anon: Number(stat.anon) } : { file: Number(stat.cache), anon: Number(stat.rss) };
  };
  /** OOM kills (v2 memory.events oom_kill; v1 only says whether the limit was hit: failcnt). */
  const pressure = () => {
    if (own.version === 2) return { oomKills: Number(/oom_kill (\d+)/.exec(readFileSync(join(dir, 'memory.events'), 'utf8'))?.[1] ?? 0) };
    return { limitHits: Number(readFileSync(join(dir, 'memory.failcnt'), 'utf8')) };
  };
  return { dir, version: own.version, current, split, pressure, remove: () => removeCgroup(dir) };
}

/** Removes the cgroup once its processes are gone (retries briefly: the kernel frees it asynchronously). */
async function removeCgroup(dir) {
  for (let i = 0; i < 50; i++) {
    try {
      rmdirSync(dir);
      return;
    } catch (e) {
      if (e.code === 'ENOENT') return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  console.error(`footprint: could not remove cgroup ${dir}`);
}

/** A copy of `bin` in `dir` whose pages are not in the page cache (so the limited cgroup pays for them). */
export function uncachedCopy(bin, dir) {
  const copy = join(dir, 'node');
  copyFileSync(bin, copy);
  execFileSync('chmod', ['0755', copy]);
  execFileSync('sync', [copy]);
  // GNU dd: iflag=nocache with count=0 asks the kernel to drop the whole (clean) file from the page cache.
  execFileSync('dd', [`if=${copy}`, 'iflag=nocache', 'count=0'], { stdio: 'ignore' });
  return copy;
}

/** Spawns `argv` inside the cgroup (via /bin/sh with a fixed script; arguments are passed, never interpolated). */
export function spawnInCgroup(cg, argv, options) {
  return spawn('/bin/sh', ['-c', ENTER_AND_EXEC, 'sh', cg.dir, ...argv], options);
}
