/** The route component's kernel side: applies the desired routes and keeps what the last pass found (problems, errors, tables, NICs it took down). */
import type { Logger } from '../base/log.ts';
import type { RouteActuator } from './actuator.ts';
import type { ApplyTrouble } from './apply-gate.ts';
import { RouteErrorCode } from './errors.ts';
import type { RouteMetrics } from './metrics.ts';
import { reconcile, type RouteTarget } from './reconcile.ts';
import type { RouteStore } from './store.ts';

export interface KernelSyncDeps {
  actuator: RouteActuator;
  log: Logger;
  metrics: RouteMetrics;
}

/**
 * One pass = desired state → diff → idempotent apply (reconcile.ts); this keeps its outcome for the status, the apply
 * gate and the next target. `downByUs` and `managed` are saved in state.db so a restart knows which NICs it took down.
 */
export class KernelSync {
  readonly #d: KernelSyncDeps;
  /** Uplinks that cannot be routed yet (no address, no gateway), as the last pass said. */
  problems: string[] = [];
  /** The last pass's failed `ip` commands, or a failed evaluation (null: fine). */
  lastError: string | null = null;
  /** The per-uplink tables and rules the last pass resolved, one line each. */
  managed: string[] = [];
  /** Interfaces linkward itself took down (idle-down uplinks): brought back up once none wants them down. */
  downByUs: string[] = [];
  /** Each resolved uplink's source address (the conntrack flush of an abandoned uplink needs it). */
  readonly knownSources: Record<string, string> = {};

  constructor(deps: KernelSyncDeps) {
    this.#d = deps;
  }

  /** What the apply gate retries on. */
  trouble(): ApplyTrouble {
    return { lastError: this.lastError, problems: this.problems };
  }

  /** Applies `target` to the kernel and records the outcome (saved to `store` when there is one). */
  async apply(target: RouteTarget, store: RouteStore | null): Promise<void> {
    const { log, metrics } = this.#d;
    const r = await reconcile(this.#d.actuator, target);
    // logged when they change (every pass re-resolves; the status shows them meanwhile)
    if (r.problems.length > 0 && r.problems.join('\n') !== this.problems.join('\n'))
      log.warn({ code: RouteErrorCode.UPLINK_UNRESOLVED, problems: r.problems }, 'uplinks cannot be routed yet; their tables are set up once resolved');
    this.problems = r.problems;
    // What the kernel confirmed, not what was planned: a failed `ip link set DEV down` did not take DEV down.
    const nicUp = new Map<string, boolean>();
    for (const c of r.result.done) if (c[0] === 'link') nicUp.set(c[3]!, c[4] === 'up');
    for (const [dev, up] of nicUp) {
      this.downByUs = up ? this.downByUs.filter((d) => d !== dev) : [...new Set([...this.downByUs, dev])];
    }
    store?.saveDownByUs(this.downByUs);
    if (r.result.errors.length > 0) {
      this.lastError = `${r.result.errors.length} ip command(s) failed; first: ${r.result.errors[0]!.cmd}: ${r.result.errors[0]!.message}`;
      metrics.applyErrors.inc(r.result.errors.length);
    } else this.lastError = null;
    if (r.cmds.length > 0) log.info({ cmds: r.result.applied }, 'reconciled routes');
    for (const u of r.resolved) this.knownSources[u.name] = u.src;
    this.managed = r.resolved.map((u) => `${u.name}: table ${u.table} default via ${u.gateway} dev ${u.dev}, rule from ${u.src}`);
    store?.saveManaged(this.managed);
  }
}
