/** Builds buffer records for tests that care about their sink, body and times only. */
import type { NewRecord } from '../../buffer/types.ts';

/** A record of `sink` with `body` (priority 1, no content type or encoding), created and expiring when given. */
export const timedRecord = (sink: string, body: string, createdMs: number, expiresMs: number | null): NewRecord => ({
  sink,
  priority: 1,
  createdMs,
  expiresMs,
  contentType: null,
  contentEncoding: null,
  body: Buffer.from(body),
});
