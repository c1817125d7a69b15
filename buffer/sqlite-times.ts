/** Clock rebase writes of the SQLite store: a stored shift plan applied a slice of records at a time, and clamps. */
import { LwError } from '../agent/base/errors.ts';
import { BufferError } from './errors.ts';
import type { StoreStatements } from './sqlite-sql.ts';
import type { ClampSlice, ShiftPlan, TimeShift } from './types.ts';

/** buf_meta key of the clock rebase under way (JSON of a ShiftPlan). */
export const SHIFT_PLAN_KEY = 'clock_shift';

const isInt = (v: unknown): v is number => Number.isSafeInteger(v);

/** A stored plan, checked field by field: LW_BUFFER_CORRUPT names what is wrong with it. */
export function parseShiftPlan(text: string): ShiftPlan {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new LwError(BufferError.CORRUPT, `stored clock rebase plan (buf_meta '${SHIFT_PLAN_KEY}') is not JSON`);
  }
  const p = v as Partial<ShiftPlan> | null;
  const shiftsOk = Array.isArray(p?.shifts) && p.shifts.every((s: Partial<TimeShift>) => isInt(s?.deltaMs) && isInt(s?.cutoffMs));
  const bad = !shiftsOk ? 'shifts' : !isInt(p?.lastId) ? 'lastId' : !isInt(p?.doneId) ? 'doneId' : !isInt(p?.moved) ? 'moved' : null;
  if (bad !== null || p === null) throw new LwError(BufferError.CORRUPT, `stored clock rebase plan (buf_meta '${SHIFT_PLAN_KEY}') has a bad ${bad}`);
  return { shifts: p.shifts as TimeShift[], lastId: p.lastId as number, doneId: p.doneId as number, moved: p.moved as number };
}

export function readShiftPlan(s: StoreStatements): ShiftPlan | null {
  const row = s.getMeta.get(SHIFT_PLAN_KEY) as { value: string } | undefined;
  return row === undefined ? null : parseShiftPlan(row.value);
}

/** The last id of the slice of up to `max` records after `after` (never beyond `last`). */
function sliceEnd(s: StoreStatements, after: number, last: number, max: number): number {
  const row = s.sliceEnd.get(after, last, Math.max(0, max - 1)) as { id: number } | undefined;
  return row?.id ?? last;
}

/** Inside a transaction: stores the plan for `shifts` and moves the sealed batches (few rows: all at once). */
export function beginShiftRows(s: StoreStatements, shifts: readonly TimeShift[]): ShiftPlan {
  const lastId = Number((s.maxId.get() as { id: number | null }).id ?? 0);
  for (const sh of shifts) s.shiftBatches.run({ delta: sh.deltaMs, cutoff: sh.cutoffMs });
  const plan: ShiftPlan = { shifts: [...shifts], lastId, doneId: 0, moved: 0 };
  if (lastId > 0) s.setMeta.run(SHIFT_PLAN_KEY, JSON.stringify(plan));
  else s.delMeta.run(SHIFT_PLAN_KEY);
  return lastId > 0 ? plan : { ...plan, doneId: lastId };
}

/** Inside a transaction: the next slice of the stored plan, and the plan after it (finished: removed from buf_meta). */
export function shiftSomeRows(s: StoreStatements, maxRecords: number): ShiftPlan {
  const plan = readShiftPlan(s);
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
export function clampSomeRows(s: StoreStatements, nowMs: number, expiryCaps: ReadonlyMap<string, number>, afterId: number, maxRecords: number): ClampSlice {
  const last = Number((s.maxId.get() as { id: number | null }).id ?? 0);
  if (afterId === 0) s.clampBatchCreated.run({ now: nowMs });
  const end = sliceEnd(s, afterId, last, maxRecords);
  const created = s.clampCreated.run({ now: nowMs, after: afterId, end }).changes;
  let expires = 0;
  for (const [sink, cap] of expiryCaps) expires += s.clampExpires.run({ cap, sink, after: afterId, end }).changes;
  return { created, expires, nextAfterId: end >= last ? null : end };
}
