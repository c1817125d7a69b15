/** Clock rebase writes of the SQLite store: a stored shift plan applied a slice of records at a time, and clamps. */
import { LwError } from '../agent/base/errors.ts';
import { BufferError } from './errors.ts';
import type { StoreStatements } from './sqlite-sql.ts';
import type { ClampSlice, ShiftPlan, ShiftState, TimeShift } from './types.ts';

/** buf_meta keys of the clock rebase under way (JSON of a ShiftPlan) and of the forward steps queued for the next. */
export const SHIFT_PLAN_KEY = 'clock_shift';
export const SHIFT_QUEUE_KEY = 'clock_queue';

const isInt = (v: unknown): v is number => Number.isSafeInteger(v);
const isShifts = (v: unknown): v is TimeShift[] => Array.isArray(v) && v.every((s: Partial<TimeShift> | null) => isInt(s?.deltaMs) && isInt(s?.cutoffMs));
const corrupt = (key: string, what: string): LwError => new LwError(BufferError.CORRUPT, `stored clock rebase (buf_meta '${key}') ${what}`);

function json(key: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw corrupt(key, 'is not JSON');
  }
}

/** A stored plan, checked field by field: LW_BUFFER_CORRUPT names what is wrong with it. */
export function parseShiftPlan(text: string): ShiftPlan {
  const p = json(SHIFT_PLAN_KEY, text) as Partial<ShiftPlan> | null;
  const bad = !isShifts(p?.shifts) ? 'shifts' : !isInt(p?.lastId) ? 'lastId' : !isInt(p?.doneId) ? 'doneId' : !isInt(p?.moved) ? 'moved' : null;
  if (bad !== null || p === null) throw corrupt(SHIFT_PLAN_KEY, `has a bad ${bad}`);
  return { shifts: p.shifts as TimeShift[], lastId: p.lastId as number, doneId: p.doneId as number, moved: p.moved as number };
}

function readPlan(s: StoreStatements): ShiftPlan | null {
  const row = s.getMeta.get(SHIFT_PLAN_KEY) as { value: string } | undefined;
  return row === undefined ? null : parseShiftPlan(row.value);
}

function readQueue(s: StoreStatements): TimeShift[] {
  const row = s.getMeta.get(SHIFT_QUEUE_KEY) as { value: string } | undefined;
  if (row === undefined) return [];
  const q = json(SHIFT_QUEUE_KEY, row.value);
  if (!isShifts(q)) throw corrupt(SHIFT_QUEUE_KEY, 'is not a list of shifts');
  return q;
}

export const readShiftState = (s: StoreStatements): ShiftState => ({ plan: readPlan(s), queued: readQueue(s) });

/** Inside a transaction: appends a shift to the stored queue. */
export function queueShiftRow(s: StoreStatements, shift: TimeShift): void {
  s.setMeta.run(SHIFT_QUEUE_KEY, JSON.stringify([...readQueue(s), { deltaMs: shift.deltaMs, cutoffMs: shift.cutoffMs }]));
}

/** Inside a transaction: forgets the stored plan and queue. */
export function dropShiftRows(s: StoreStatements): void {
  s.delMeta.run(SHIFT_PLAN_KEY);
  s.delMeta.run(SHIFT_QUEUE_KEY);
}

/** The last id of the slice of up to `max` records after `after` (never beyond `last`). */
function sliceEnd(s: StoreStatements, after: number, last: number, max: number): number {
  const row = s.sliceEnd.get(after, last, Math.max(0, max - 1)) as { id: number } | undefined;
  return row?.id ?? last;
}

const maxId = (s: StoreStatements): number => Number((s.maxId.get() as { id: number | null }).id ?? 0);

/** Inside a transaction: a plan for the queued shifts (stored unless the store is empty), sealed batches moved (few rows: all at once). */
export function beginShiftRows(s: StoreStatements): ShiftPlan | null {
  if (readPlan(s) !== null) throw new LwError(BufferError.UNAVAILABLE, 'a clock rebase is already under way: finish it before the next');
  const shifts = readQueue(s);
  if (shifts.length === 0) return null;
  const lastId = maxId(s);
  for (const sh of shifts) s.shiftBatches.run({ delta: sh.deltaMs, cutoff: sh.cutoffMs });
  const plan: ShiftPlan = { shifts, lastId, doneId: 0, moved: 0 };
  s.delMeta.run(SHIFT_QUEUE_KEY);
  if (lastId === 0) return { ...plan, doneId: lastId };
  s.setMeta.run(SHIFT_PLAN_KEY, JSON.stringify(plan));
  return plan;
}

/** Inside a transaction: the next slice of the stored plan, and the plan after it (finished: removed from buf_meta). */
export function shiftSomeRows(s: StoreStatements, maxRecords: number): ShiftPlan {
  const plan = readPlan(s);
  if (plan === null) throw new LwError(BufferError.UNAVAILABLE, 'no clock rebase is under way (shiftSome without beginShift)');
  const end = sliceEnd(s, plan.doneId, plan.lastId, maxRecords);
  let moved = 0;
  for (const sh of plan.shifts) moved = s.shiftRecords.run({ delta: sh.deltaMs, cutoff: sh.cutoffMs, after: plan.doneId, end }).changes;
  const next: ShiftPlan = { ...plan, doneId: end, moved: plan.moved + moved };
  if (end >= plan.lastId) s.delMeta.run(SHIFT_PLAN_KEY);
  else s.setMeta.run(SHIFT_PLAN_KEY, JSON.stringify(next));
  return next;
}

/** Inside a transaction: one slice of the clamp (see Store.clampSome). */
export function clampSomeRows(
  s: StoreStatements,
  nowMs: number,
  expiryCaps: ReadonlyMap<string, number>,
  afterId: number,
  untilId: number | null,
  maxRecords: number,
): ClampSlice {
  const last = untilId ?? maxId(s);
  if (afterId === 0) s.clampBatchCreated.run({ now: nowMs });
  const end = sliceEnd(s, afterId, last, maxRecords);
  const created = s.clampCreated.run({ now: nowMs, after: afterId, end }).changes;
  let expires = 0;
  for (const [sink, cap] of expiryCaps) expires += s.clampExpires.run({ cap, sink, after: afterId, end }).changes;
  return { created, expires, nextAfterId: end >= last ? null : end, untilId: last };
}
