/** IPv6 follow-up: an active uplink whose IPv6 side resolved only after its switch gets IPv6 by a confirmed move of its own. */
import type { Logger } from '../base/log.ts';
import type { UplinkConfig } from '../config/uplinks.ts';
import type { RouteActuator } from './actuator.ts';
import { mainDefaults, type KernelState } from './ip-state.ts';
import type { RouteMetrics } from './metrics.ts';
import { resolveUplinks, type PlanOptions } from './plan.ts';
import type { SwitchOutcome } from './switcher.ts';

/** What the follower needs from the route component (all of it injected, so tests drive it with a fake kernel). */
export interface Follow6Deps {
  configured: readonly UplinkConfig[];
  opts: PlanOptions;
  actuator: RouteActuator;
  metrics: RouteMetrics;
  log: Logger;
  /** While the held uplink's IPv6 side stays unresolved, the kernel is read for it at most this often (reapplyInterval). */
  recheckMs: number;
  /** Hold after a follow-up that failed to confirm (uplinks.policy.holdDown), and after one the agent decided late. */
  holdDownMs: number;
  lateHoldDownMs: number;
  /** Runs the commit-confirm move of `active`'s IPv6 main default to it (commitSwitch with reason `ipv6`). */
  commit(active: string): Promise<SwitchOutcome>;
  /** Epoch ms now: a failed follow-up's hold counts from its end (its confirm may have taken seconds), as a switch's does. */
  nowMs(): number;
  /** The holds changed (saved in state.db, so a restart keeps them; `restore` reads them back). */
  saveHolds(h: Readonly<Record<string, number>>): void;
}

/**
 * A switch confirms the families it moves. When the new uplink's IPv6 router or address is not known at the switch
 * (`gateway6: auto` before a router advertisement, SLAAC pending), only IPv4 moves; the periodic re-apply must not then
 * move IPv6 unconfirmed once it resolves. So the active uplink's IPv6 main default is held back (`hold6`) until this
 * follower has moved it with a commit-confirm of its own; a failed one holds that uplink's IPv6 for `holdDownMs`.
 */
export class Ipv6Follower {
  readonly #d: Follow6Deps;
  /** The uplink whose IPv6 side carries the IPv6 main default by a confirmed move (or did when linkward started). */
  #confirmed: string | null = null;
  readonly #heldUntil = new Map<string, number>();
  /** When the held uplink's IPv6 side was last found unresolved: evaluations run per link snapshot, reads need not. */
  #uncheckedUntil = Number.NEGATIVE_INFINITY;

  constructor(deps: Follow6Deps) {
    this.#d = deps;
  }

  /**
   * At start: the uplink the kernel's best IPv6 default already uses is the status quo, not a move to confirm. With no
   * IPv6 default (or no kernel read) nothing is: the active uplink's IPv6 then moves by a confirmed follow-up.
   */
  start(kernel: KernelState | null): void {
    const best = kernel ? mainDefaults(kernel, 6)[0] : undefined;
    this.#confirmed = best ? (this.#d.configured.find((u) => u.interface === best.dev)?.name ?? null) : null;
  }

  /** True when `active`'s IPv6 main default must be left out for now (RouteTarget.hold6). */
  holds(active: string | null): boolean {
    return active !== null && active !== this.#confirmed && this.#dualStack(active);
  }

  /** A switch ended: the families it moved (and confirmed) decide whether `to` carries IPv6 by a confirmed move. */
  switched(to: string, ok: boolean, families: readonly number[]): void {
    // an IPv4-only switch leaves no uplink whose IPv6 is vouched for (not even one confirmed earlier: on a failback its
    // IPv6 may resolve later, through a path nobody checked)
    if (ok) this.#confirmed = families.includes(6) ? to : null;
    this.#uncheckedUntil = Number.NEGATIVE_INFINITY;
  }

  /**
   * At start: the holds a previous run saved; those already over are dropped, and none lasts longer than `holdDownMs`
   * from now (a wall clock that was ahead when it was saved, or a holdDown lowered since, cannot stretch it).
   */
  restore(saved: Readonly<Record<string, number>>, nowMs: number): void {
    for (const [name, until] of Object.entries(saved)) if (until > nowMs) this.#heldUntil.set(name, Math.min(until, nowMs + this.#d.holdDownMs));
  }

  /** The wall clock stepped by `deltaMs` (new − old): holds and the recheck time move with it, keeping their lengths. */
  shift(deltaMs: number): void {
    for (const [name, until] of this.#heldUntil) this.#heldUntil.set(name, until + deltaMs);
    this.#uncheckedUntil += deltaMs;
  }

  /** A follow-up left pending by a dead agent was reverted at start: hold that uplink's IPv6 like a failed one. */
  recovered(to: string, nowMs: number): void {
    this.#hold(to, nowMs + this.#d.holdDownMs, nowMs);
  }

  /** Saves the holds still running, with `extra` on top (not held in memory). */
  #save(nowMs: number, extra: Record<string, number> = {}): void {
    this.#d.saveHolds({ ...this.#running(nowMs), ...extra });
  }

  /** Sets (until > now) or lifts one uplink's hold, and saves the holds still running. */
  #hold(name: string, until: number, nowMs: number): void {
    if (until > nowMs) this.#heldUntil.set(name, until);
    else this.#heldUntil.delete(name);
    this.#save(nowMs);
  }

  /** Moves `active`'s IPv6 when it is held back, resolved now and not in a hold; returns what to show as the last decision. */
  async follow(active: string | null, nowMs: number): Promise<string | null> {
    if (active === null || !this.holds(active) || (this.#heldUntil.get(active) ?? 0) > nowMs || nowMs < this.#uncheckedUntil) return null;
    const kernel = await this.#d.actuator.read().catch(() => null);
    if (!kernel || !resolveUplinks(this.#d.configured, kernel, this.#d.opts).uplinks.find((u) => u.name === active)?.v6) {
      this.#uncheckedUntil = nowMs + this.#d.recheckMs;
      return null;
    }
    // Saved first as if it failed: a kill after the switch's pending record is cleared but before the outcome is known
    // here must still leave the hold (a kill before that is a pending switch, reverted and held at start).
    this.#save(nowMs, { [active]: nowMs + this.#d.holdDownMs });
    const out = await this.#d.commit(active);
    this.#d.metrics.switches.inc({ reason: 'ipv6', result: out.result });
    if (out.ok && out.families.includes(6)) {
      this.#confirmed = active;
      this.#hold(active, 0, this.#d.nowMs());
      return `IPv6 moved to ${active} (${out.result}: ${out.detail})`;
    }
    const late = out.cause === 'late' || out.cause === 'helper-fired';
    const holdMs = late ? Math.min(this.#d.holdDownMs, this.#d.lateHoldDownMs) : this.#d.holdDownMs;
    const endMs = this.#d.nowMs();
    this.#hold(active, endMs + holdMs, endMs);
    if (!out.ok) {
      this.#d.metrics.rollbacks.inc();
      this.#d.metrics.rollbackCauses.inc({ cause: out.cause ?? 'unreachable' });
    }
    this.#d.log.warn({ uplink: active, cause: out.cause, detail: out.detail, holdMs }, 'IPv6 not moved to the active uplink: its confirm failed');
    return `IPv6 of ${active} not moved: ${out.detail}; IPv6 left to the host's routes, tried again in ${holdMs / 1000}s`;
  }

  /** The holds not yet over at `nowMs`. */
  #running(nowMs: number): Record<string, number> {
    return Object.fromEntries([...this.#heldUntil].filter(([, t]) => t > nowMs));
  }

  #dualStack(name: string): boolean {
    return this.#d.configured.find((u) => u.name === name)?.gateway6 !== undefined;
  }

  details(nowMs: number): { confirmed: string | null; heldUntil: Record<string, number> } {
    return { confirmed: this.#confirmed, heldUntil: this.#running(nowMs) };
  }
}
