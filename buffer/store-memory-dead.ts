/** Dead letters of the in-memory store: a refused batch moved aside (capped, as SQLite's), and replayed back into records. */
import { DEAD_LETTER_MAX_ROWS } from './sqlite-dead.ts';
import type { DeadLetter, NewRecord, ReplaySplit, SealedBatch } from './types.ts';

/** `dead` with batch `b` as the newest dead letter (in place of one with its id); the oldest beyond the cap are left out. */
export function withDeadLetter(dead: readonly DeadLetter[], b: SealedBatch, reason: string, status: number | null, nowMs: number): DeadLetter[] {
  const out = dead.filter((d) => d.id !== b.id);
  out.push({
    id: b.id,
    sink: b.sink,
    priority: b.priority,
    failedMs: nowMs,
    status,
    reason,
    recordCount: b.recordCount,
    contentType: b.contentType,
    contentEncoding: b.contentEncoding,
    body: b.body,
  });
  if (out.length > DEAD_LETTER_MAX_ROWS) out.splice(0, out.length - DEAD_LETTER_MAX_ROWS);
  return out;
}

/** The dead letters to replay (the given ids, or all) and the records they make, created at `nowMs`. */
export function replayRecords(
  dead: readonly DeadLetter[],
  ids: readonly string[] | null,
  nowMs: number,
  split: ReplaySplit,
): { chosen: DeadLetter[]; recs: NewRecord[] } {
  const chosen = dead.filter((d) => ids === null || ids.includes(d.id));
  const recs = chosen.flatMap((d) => split(d).map((b) => ({ sink: d.sink, priority: d.priority, createdMs: nowMs, expiresMs: null, ...b })));
  return { chosen, recs };
}
