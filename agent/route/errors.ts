/** Error codes of the route package (uplink failover): short names for keys of the registry (agent/base/error-codes.ts). */
import type { LwCode } from '../base/error-codes.ts';

export const RouteErrorCode = {
  /** `ip` printed something that is not the expected JSON. */
  IP_OUTPUT: 'LW_ROUTE_IP_OUTPUT',
  /**
   * A read of the kernel's routes, rules or addresses failed, timed out, printed nothing, garbage or partial JSON:
   * the state is unknown and nothing was changed or deleted (retried within 10 s, or the re-apply interval if shorter).
   */
  STATE_UNKNOWN: 'LW_ROUTE_STATE_UNKNOWN',
  /** An uplink cannot be routed: interface, gateway or source address unknown. */
  UPLINK_UNRESOLVED: 'LW_ROUTE_UPLINK_UNRESOLVED',
  /** One or more `ip` commands failed while applying the desired state. */
  APPLY_FAILED: 'LW_ROUTE_APPLY_FAILED',
  /** A switch was not confirmed in time and was rolled back. */
  CONFIRM_FAILED: 'LW_ROUTE_CONFIRM_FAILED',
  /** k3s does not pin its node IP / flannel interface, so switching routes would move them. */
  K3S_UNPINNED: 'LW_ROUTE_K3S_UNPINNED',
  /** The named uplink is not configured. */
  UNKNOWN_UPLINK: 'LW_ROUTE_UNKNOWN_UPLINK',
  /** The external revert helper could not be started. */
  HELPER_FAILED: 'LW_ROUTE_HELPER_FAILED',
  /** `conntrack -D` failed after a switch (the switch itself stands; old NAT entries may linger). */
  CONNTRACK_FAILED: 'LW_ROUTE_CONNTRACK_FAILED',
  /** The `conntrack` binary is not installed, so NAT entries of the old uplink were not flushed. */
  CONNTRACK_MISSING: 'LW_ROUTE_CONNTRACK_MISSING',
} as const satisfies Record<string, LwCode>;
