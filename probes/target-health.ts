/** Health of probe targets apart from the link: a target that refuses or stays silent while others answer is a target problem. Pure. */
import type { MeasurementNote } from '../agent/core/types.ts';

/** Rounds in a row a target must stay silent, while another target answers, before it is called silent (not one lost packet). */
export const SILENT_ROUNDS = 3;

export type TargetCondition = 'ok' | 'refused' | 'silent';

export interface TargetRecord {
  condition: TargetCondition;
  sinceMs: number;
  /** Consecutive rounds without any answer. */
  silentRounds: number;
}

export type TargetBook = Readonly<Record<string, TargetRecord>>;

/** One target's outcome in a light round (see light-round.ts). */
export interface TargetRound {
  id: string;
  up: boolean;
  refused: boolean;
}

/**
 * Folds one round into the book. `refused`: every answer was a TCP reset (the path works, nothing listens). `silent`:
 * no answer for SILENT_ROUNDS rounds while some other target answered (when all are silent it is the link, not them).
 * Targets not probed this round (rotation) keep their record.
 */
export function updateTargets(book: TargetBook, round: readonly TargetRound[], nowMs: number): Record<string, TargetRecord> {
  const out: Record<string, TargetRecord> = { ...book };
  const someoneAnswered = round.some((r) => r.up);
  for (const r of round) {
    const prev = out[r.id] ?? { condition: 'ok', sinceMs: nowMs, silentRounds: 0 };
    const silentRounds = r.up ? 0 : prev.silentRounds + 1;
    let condition: TargetCondition = 'ok';
    if (r.up && r.refused) condition = 'refused';
    else if (!r.up && someoneAnswered && silentRounds >= SILENT_ROUNDS) condition = 'silent';
    else if (!r.up && prev.condition !== 'ok') condition = prev.condition; // all silent now: keep what was known
    out[r.id] = { condition, sinceMs: condition === prev.condition ? prev.sinceMs : nowMs, silentRounds };
  }
  return out;
}

/** Notes for the operator: target problems are shown beside the verdict, never part of it. */
export function targetNotes(book: TargetBook): MeasurementNote[] {
  const notes: MeasurementNote[] = [];
  for (const [id, r] of Object.entries(book)) {
    if (r.condition === 'refused') {
      notes.push({
        code: 'target_refused',
        sinceMs: r.sinceMs,
        message: `probe target ${id} refuses connections (TCP reset): nothing listens there, so it proves only that the path works; fix the target or its port`,
      });
    } else if (r.condition === 'silent') {
      notes.push({
        code: 'target_silent',
        sinceMs: r.sinceMs,
        message: `probe target ${id} has not answered for ${r.silentRounds} rounds while other targets do: the target (or a filter in front of it) is down, not the link`,
      });
    }
  }
  return notes;
}
