/** When the route component must reconcile the kernel: inputs changed, a switch, the drift-repair tick, or trouble left over. */
import type { LinkSnapshot } from '../core/types.ts';

/** Why the last apply left work to do: it failed, or some uplinks could not be resolved yet (no address, no gateway). */
export interface ApplyTrouble {
  lastError: string | null;
  problems: readonly string[];
}

/**
 * Desired state → diff → apply is idempotent, but each apply reads the kernel (3 `ip` processes) and link snapshots
 * arrive every few seconds, so the component applies only when this says so. Pure apart from its own memory.
 */
export interface ApplyGate {
  /** True when an evaluation with these inputs must reconcile; a true answer counts as an attempt at `nowMs`. */
  due(active: string | null, linkUp: Record<string, boolean>, snap: LinkSnapshot, switched: boolean, trouble: ApplyTrouble, nowMs: number): boolean;
  /** Records that the routes were reconciled for these inputs. */
  applied(active: string | null, linkUp: Record<string, boolean>, snap: LinkSnapshot): void;
  /** The reapply interval elapsed: the next evaluation re-reads the kernel and repairs drift even if nothing changed. */
  tick(): void;
}

/**
 * Trouble left by the last apply (a failed `ip` command, an uplink not resolvable yet: a modem without an address, no
 * router advertisement) is retried at most this often while nothing else changed, instead of on every link snapshot
 * (every 1–5 s, 3 `ip` processes each) for as long as a backup modem stays dead; capped by the re-apply interval.
 */
export const TROUBLE_RETRY_MS = 10_000;

/** `retryMs`: the spacing of trouble retries (min of TROUBLE_RETRY_MS and the re-apply interval). */
export function createApplyGate(retryMs: number = TROUBLE_RETRY_MS): ApplyGate {
  let appliedKey: string | null = null;
  let triedAtMs = Number.NEGATIVE_INFINITY;
  let tickDue = true;
  return {
    due(active, linkUp, snap, switched, trouble, nowMs) {
      // The tick is consumed here, so a tick that fires while this apply runs schedules one more re-read.
      const ticked = tickDue;
      tickDue = false;
      const troubled = trouble.lastError !== null || trouble.problems.length > 0;
      const go = ticked || switched || desiredKey(active, linkUp, snap) !== appliedKey || (troubled && nowMs - triedAtMs >= retryMs);
      // an attempt whether it succeeds or throws (a failed kernel read never reaches applied()): retries count from it
      if (go) triedAtMs = nowMs;
      return go;
    },
    applied(active, linkUp, snap) {
      appliedKey = desiredKey(active, linkUp, snap);
    },
    tick() {
      tickDue = true;
    },
  };
}

/**
 * Identity of what the plan depends on besides the config and the kernel: the active uplink, the NICs to keep up,
 * and each uplink's health (a modem that reconnects may come back with a new address and needs its table again).
 */
export function desiredKey(active: string | null, linkUp: Record<string, boolean>, snap: LinkSnapshot): string {
  return JSON.stringify([active, byName(linkUp), byName(snap.uplinks).map(([n, u]) => [n, u.health])]);
}

function byName<T>(o: Record<string, T>): [string, T][] {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)); // code-unit order: no ICU collation
}
