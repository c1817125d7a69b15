/** Small tmpfs mounts for disk-full tests (root only): mount, unmount, per-describe hooks, and filling one up. */
import { after, before } from 'node:test';
import { closeSync, mkdtempSync, openSync, rmdirSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../agent/base/exec.ts';

/** Mounts a tmpfs of `size` (mount's syntax: '8m') on `dir`. */
export async function mountTmpfs(dir: string, size: string): Promise<void> {
  await run('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
}

/** Unmounts `dir` (lazily when something still holds it open). */
export async function unmountTmpfs(dir: string): Promise<void> {
  await run('umount', [dir]).catch(() => run('umount', ['-l', dir]));
}

/** A fresh directory under the temp dir; the caller's tests need root (they mount on it). */
export function tmpfsDir(prefix: string): string {
  if (process.getuid?.() !== 0) throw new Error('this test mounts a tmpfs: run it as root (CI does)');
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Hooks of the enclosing describe: a tmpfs of `size` mounted before its tests and removed after; returns its path. */
export function withTmpfs(prefix: string, size: string): () => string {
  let dir = '';
  before(async () => {
    dir = tmpfsDir(prefix);
    await mountTmpfs(dir, size);
  });
  after(async () => {
    await unmountTmpfs(dir);
    rmdirSync(dir);
  });
  return () => dir;
}

/** Filler write size; the last write hits ENOSPC and leaves less than this free. */
const FILL_CHUNK = 16 * 1024;
/** Bound on the writes (16 KiB each: 1.6 GB), so a file system that never fills cannot loop the test forever. */
const MAX_CHUNKS = 100_000;

/** Writes into `path` until the file system is full; returns the bytes written. */
export function fillDisk(path: string): number {
  const fd = openSync(path, 'w');
  let n = 0;
  try {
    for (let i = 0; i < MAX_CHUNKS; i++) {
      try {
        n += writeSync(fd, Buffer.alloc(FILL_CHUNK, 1));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
        throw e;
      }
    }
  } finally {
    closeSync(fd);
  }
  return n;
}
