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
  /** True when an evaluation with these inputs must reconcile. */
  due(active: string | null, linkUp: Record<string, boolean>, snap: LinkSnapshot, switched: boolean, trouble: ApplyTrouble): boolean;
  /** Records that the routes were reconciled for these inputs. */
  applied(active: string | null, linkUp: Record<string, boolean>, snap: LinkSnapshot): void;
  /** The reapply interval elapsed: the next evaluation re-reads the kernel and repairs drift even if nothing changed. */
  tick(): void;
}

export function createApplyGate(): ApplyGate {
  let appliedKey: string | null = null;
  let tickDue = true;
  return {
    due(active, linkUp, snap, switched, trouble) {
      // The tick is consumed here, so a tick that fires while this apply runs schedules one more re-read.
      const ticked = tickDue;
      tickDue = false;
      return ticked || switched || trouble.lastError !== null || trouble.problems.length > 0 || desiredKey(active, linkUp, snap) !== appliedKey;
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
