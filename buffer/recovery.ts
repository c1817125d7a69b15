/** Recovery at open: the ledger audit (acknowledged vs present), salvage of a quarantined file, and what they found. */
import type { Logger } from '../agent/base/log.ts';
import type { RecordLedger } from './ledger.ts';
import type { BufferMetrics } from './metrics.ts';
import { salvageFile, type SalvageResult } from './salvage.ts';
import type { Store } from './types.ts';

/** Why acknowledged records went missing (label of linkward_buffer_lost_records_total). */
export type LossReason = 'missing_at_open' | 'quarantined';

export interface LossReport {
  reason: LossReason;
  records: number;
  /** Records the ledger expected and the file held. */
  expected: number;
  present: number;
  atMs: number;
}

export type SalvageReport = SalvageResult & { file: string };

export class Recovery {
  /** Acknowledged records found missing at open, for status. */
  readonly losses: LossReport[] = [];
  /** What was copied out of the file quarantined at open (null: none was). */
  salvaged: SalvageReport | null = null;
  readonly #ledger: RecordLedger;
  readonly #store: Store;
  readonly #metrics: BufferMetrics;
  readonly #log: Logger;
  readonly #nowMs: () => number;
  readonly #wake: () => void;

  constructor(ledger: RecordLedger, store: Store, metrics: BufferMetrics, log: Logger, nowMs: () => number, wake: () => void) {
    this.#ledger = ledger;
    this.#store = store;
    this.#metrics = metrics;
    this.#log = log;
    this.#nowMs = nowMs;
    this.#wake = wake;
  }

  /**
   * Compares the records the ledger says were stored (acknowledged and not yet delivered or dropped) with those the
   * file holds. A shortfall is acknowledged data lost outside the buffer's control (a WAL cut short by corruption):
   * logged, counted by reason and kept for status; never silent. `countAfter(id)`: records with an id above `id`.
   */
  audit(present: number, countAfter?: (id: number) => number): void {
    const known = this.#ledger.found;
    const gap = this.#ledger.reconcile(present, countAfter);
    if (!known) return;
    if (gap.uncommitted > 0)
      this.#log.info(
        { records: gap.uncommitted },
        'a group of records was being committed when the agent stopped and is not in the file: it was never acknowledged (its senders retry), so nothing is lost',
      );
    if (gap.missing > 0) this.#lost('missing_at_open', gap.missing, gap.expected, present);
    else if (gap.present > gap.expected) {
      this.#log.info(
        { extra: gap.present - gap.expected },
        'buffer holds records the ledger counted as gone (a crash between delivery and its acknowledgement): they are sent again under their Idempotency-Key',
      );
    }
  }

  /** The file at open was corrupt: its records leave the ledger, the readable ones come back by salvage, the rest is lost. */
  quarantined(aside: string): void {
    const before = this.#ledger.found ? this.#ledger.expected : null;
    this.#ledger.removed(this.#ledger.expected);
    this.salvaged = this.salvage(aside);
    if (before !== null && before > this.salvaged.copied) this.#lost('quarantined', before - this.salvaged.copied, before, this.salvaged.copied);
  }

  /** Copies the readable records of a damaged buffer file into the store (quarantine at open, or `linkward buffer salvage`). */
  salvage(file: string): SalvageReport {
    const r = { file, ...salvageFile(file, this.#store) };
    if (r.copied > 0) {
      this.#metrics.salvaged.inc(r.copied);
      this.#wake();
    }
    if (r.unreadable > 0) this.#metrics.unsalvageable.inc(r.unreadable);
    const level = r.error !== null || r.unreadable > 0 ? 'warn' : 'info';
    this.#log[level]({ file, copied: r.copied, unreadable: r.unreadable, err: r.error }, 'salvaged readable records of a damaged buffer file');
    return r;
  }

  #lost(reason: LossReason, records: number, expected: number, present: number): void {
    this.losses.push({ reason, records, expected, present, atMs: this.#nowMs() });
    this.#metrics.lost.inc({ reason }, records);
    this.#log.error(
      { reason, missing: records, expected, present },
      'acknowledged telemetry records are missing from the buffer file after a restart (not delivered, not dropped by policy)',
    );
  }
}
