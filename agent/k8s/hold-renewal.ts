/** Renews the fleet hold on its own timer, every third of the TTL, independent of the resync and of link snapshots. */
import type { Clock } from '../base/clock.ts';
import { codeOf, messageOf } from '../base/errors.ts';
import type { Logger } from '../base/log.ts';
import { backoffDelayMs } from './backoff.ts';
import type { FleetSemaphore } from './fleet.ts';

export interface HoldRenewalDeps {
  fleet: FleetSemaphore;
  clock: Clock;
  log: Logger;
  random: () => number;
  maxBackoffMs: number;
  dryRun: boolean;
  /** Milliseconds the shared API gate still holds requests back (0 = open). */
  gateWaitMs: () => number;
  /** False while node actions are stopped or paused: no renewal is scheduled. */
  active: () => boolean;
  /** The hold was lost (refused, or lapsed while renewals failed): the caller re-plans without it. */
  onLost: () => void;
}

export class HoldRenewal {
  readonly #d: HoldRenewalDeps;
  #cancel: (() => void) | null = null;
  #failures = 0;

  constructor(deps: HoldRenewalDeps) {
    this.#d = deps;
  }

  /** (Re)arms the timer for the next renewal; nothing when no hold is held. Called after every pass. */
  schedule(): void {
    this.cancel();
    const due = this.#d.active() ? this.#d.fleet.renewDueInMs() : null;
    if (due !== null) this.#arm(due);
  }

  cancel(): void {
    this.#cancel?.();
    this.#cancel = null;
  }

  #arm(ms: number): void {
    this.#cancel = this.#d.clock.setTimer(ms, () => {
      this.#cancel = null;
      void this.#renew();
    });
  }

  async #renew(): Promise<void> {
    const { fleet, log } = this.#d;
    if (!this.#d.active()) return;
    try {
      const r = await fleet.acquire(this.#d.dryRun);
      this.#failures = 0;
      if (!r.granted) this.#d.onLost(); // expired and taken: the next pass takes the restrictive decorations off
      this.schedule();
    } catch (e) {
      this.#failures++;
      const delay = Math.max(this.#d.gateWaitMs(), backoffDelayMs(this.#failures, this.#d.maxBackoffMs, this.#d.random()));
      log.warn({ code: codeOf(e), err: messageOf(e), retryInMs: delay }, 'fleet hold renewal failed; will retry');
      if (fleet.held()) this.#arm(delay);
      else this.#d.onLost(); // lapsed: re-plan without it
    }
  }
}
