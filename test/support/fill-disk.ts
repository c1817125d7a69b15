/** Fills a file system (a test's tmpfs) by writing one file until ENOSPC. */
import { closeSync, openSync, writeSync } from 'node:fs';

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
