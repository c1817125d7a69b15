/** Error codes of the buffer package (callers branch on these, never on messages). */
import { isSqliteCorrupt, type LwCode } from '../agent/base/errors.ts';

export const BufferError = {
  /** The store is at its bound and the policy is reject-new (HTTP 507). */
  FULL: 'LW_BUFFER_FULL',
  /** The disk (or tmpfs) under state.dir is full; records could not be stored (HTTP 507). */
  DISK_FULL: 'LW_BUFFER_DISK_FULL',
  /** The store could not be opened or is closed (HTTP 503). */
  UNAVAILABLE: 'LW_BUFFER_UNAVAILABLE',
  /** No sink with that name is configured (HTTP 404). */
  UNKNOWN_SINK: 'LW_BUFFER_UNKNOWN_SINK',
  /** Body larger than buffer.maxRecordBytes (HTTP 413). */
  TOO_LARGE: 'LW_BUFFER_TOO_LARGE',
  /** The body cannot be delivered by the sink's protocol (bad JSON, wrong content type, undecodable remote write): HTTP 400. */
  INVALID_PAYLOAD: 'LW_BUFFER_INVALID_PAYLOAD',
  /** A sink header secret (env var or file) could not be resolved. */
  SECRET_MISSING: 'LW_BUFFER_SECRET_MISSING',
  /** The database file was corrupt and has been moved aside. */
  CORRUPT: 'LW_BUFFER_CORRUPT',
} as const satisfies Record<string, LwCode>;

/** True when an error from SQLite or the OS means "no space left". */
export function isDiskFull(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'SQLITE_IOERR_WRITE' || code === 'SQLITE_IOERR_FSYNC' || code === 'SQLITE_IOERR_SHMSIZE';
}

/** True when an error from SQLite means the file is not a usable database (one rule for buffer.db and state.db). */
export const isCorrupt = isSqliteCorrupt;
