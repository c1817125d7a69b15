/** Config schema of the uplink failover policy (`uplinks.policy`): selection, routing tables, commit-confirm, k3s safety. */
import { z } from 'zod';

/** A candidate must be healthy for this many consecutive new samples before we move traffic onto it. */
export const DEFAULT_CANDIDATE_SAMPLES = 3;
/** Failback waits until the preferred uplink has been healthy this long (a link bouncing every few seconds never qualifies). */
export const DEFAULT_FAILBACK_HOLD_MS = 120_000;
/** Failback only if the preferred uplink's median RTT is not worse than the active one's by more than this. */
export const DEFAULT_FAILBACK_RTT_MARGIN_MS = 50;
/** Failback only if the preferred uplink's loss is not worse than the active one's by more than this (percent points). */
export const DEFAULT_FAILBACK_LOSS_MARGIN_PERCENT = 1;
/** At most this many automatic switches per rolling hour; beyond it the policy stays put and says so. */
export const DEFAULT_MAX_SWITCHES_PER_HOUR = 6;
/** Minimum time between two automatic switches: with a 2 min failback hold this bounds flapping to ≤1 switch per 10 min. */
export const DEFAULT_MIN_SWITCH_INTERVAL_MS = 10_000;
/** A merely degraded (not down) active uplink must stay degraded this long before we leave it: random loss of ~1 % makes short degraded blips. */
export const DEFAULT_DEGRADED_SWITCH_AFTER_MS = 120_000;
/** Loss-only degradation moves traffic only above this smoothed loss: probing sends <1 packet/s, so a 1 % loss link shows 3 % for minutes at a time by chance, 5 % almost never. */
export const DEFAULT_DEGRADED_SWITCH_LOSS_PERCENT = 5;
/** An uplink whose switch was not confirmed is not chosen again for this long. */
export const DEFAULT_HOLD_DOWN_MS = 300_000;
/** Time the new default route has to prove itself (one target reached) before it is rolled back. */
export const DEFAULT_CONFIRM_TIMEOUT_MS = 5_000;
/** The external revert helper fires this long after the confirm deadline, so a live agent always decides first. */
export const DEFAULT_REVERT_GRACE_MS = 3_000;
/** Re-read the kernel state and repair drift this often. */
export const DEFAULT_REAPPLY_INTERVAL_MS = 30_000;
/** First routing table / rule priority linkward uses; uplink i gets base+i. Far from 253-255 (default/main/local) and from DHCP clients. */
export const DEFAULT_TABLE_BASE = 7100;
/** `proto` number on linkward's routes, so they can be told apart from DHCP/static ones (`ip route show proto 77`). */
export const DEFAULT_ROUTE_PROTO = 77;
/** Metric of linkward's default route in the main table: 0 wins over DHCP defaults (100+), which stay as fallbacks. */
export const DEFAULT_MAIN_METRIC = 0;

/** Duration in ms, or a string like `30s`, `2m`, `1h`. */
export const DurationSchema = z.union([
  z.number().int().nonnegative(),
  z
    .string()
    .regex(/^\d+(ms|s|m|h)$/, 'must be a number of ms or a duration like 500ms, 30s, 2m, 1h')
    .transform(parseDurationMs),
]);

/** Parses `500ms`, `30s`, `2m`, `1h` (or a plain number of ms); NaN when malformed. */
export function parseDurationMs(text: string | number): number {
  if (typeof text === 'number') return text;
  const m = /^(\d+)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  const unit = m[2] ?? 'ms';
  return n * (unit === 'h' ? 3_600_000 : unit === 'm' ? 60_000 : unit === 's' ? 1000 : 1);
}

export const RoutePolicySchema = z
  .strictObject({
    mode: z
      .enum(['failover', 'manual'])
      .default('failover')
      .describe('failover: priority order with failback; manual: only `linkward route use` moves the default route.'),
    manageRoutes: z.boolean().default(true).describe('Change the kernel routes (needs CAP_NET_ADMIN). Off: only choose and announce the active uplink.'),
    dryRun: z.boolean().default(false).describe('Log the exact `ip` commands instead of running them.'),
    perUplinkTables: z
      .boolean()
      .default(true)
      .describe('Install per-uplink tables and `ip rule from SRC` so probes bound to an uplink leave through it even when it is not the default.'),
    flushConntrack: z
      .boolean()
      .default(true)
      .describe(
        "After a committed switch from uplink A to B, delete the conntrack entries source-NATed to A's address (`conntrack -D --reply-dst A --src-nat`: pod flows NATed to A; the node's own un-NATed connections are left alone), so established flows re-NAT onto B at once. Matters where pod traffic is SNATed to a fixed uplink address: those entries otherwise keep A's address until they time out (TCP established: 5 days); MASQUERADEd flows (k3s default) are also re-NATed by the kernel once they leave another interface. TCP peers see a new address and reconnect. After a rollback the failed uplink's address is flushed; the address traffic now uses never is. Needs `conntrack` (Debian: apt-get install conntrack); if missing, the switch still happens and one warning is logged. Dry-run logs the commands.",
      ),
    candidateSamples: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(DEFAULT_CANDIDATE_SAMPLES)
      .describe('Consecutive healthy samples a candidate needs before a switch.'),
    degradedSwitchAfter: DurationSchema.default(DEFAULT_DEGRADED_SWITCH_AFTER_MS).describe(
      'A degraded (not down) active uplink is left only after being degraded this long; down switches at once.',
    ),
    degradedSwitchLossPercent: z
      .number()
      .min(0)
      .max(100)
      .default(DEFAULT_DEGRADED_SWITCH_LOSS_PERCENT)
      .describe('When loss is the only reason an active uplink is degraded, leave it only while its smoothed loss is above this.'),
    failbackHold: DurationSchema.default(DEFAULT_FAILBACK_HOLD_MS).describe('How long the preferred uplink must be healthy before failback (ms or 2m).'),
    failbackRttMarginMs: z
      .number()
      .nonnegative()
      .default(DEFAULT_FAILBACK_RTT_MARGIN_MS)
      .describe('Failback only if the preferred RTT is at most this much worse than the active one.'),
    failbackLossMarginPercent: z
      .number()
      .nonnegative()
      .default(DEFAULT_FAILBACK_LOSS_MARGIN_PERCENT)
      .describe('Failback only if the preferred loss is at most this many points worse.'),
    maxSwitchesPerHour: z.number().int().min(1).default(DEFAULT_MAX_SWITCHES_PER_HOUR).describe('Cap on automatic switches per rolling hour.'),
    minSwitchInterval: DurationSchema.default(DEFAULT_MIN_SWITCH_INTERVAL_MS).describe('Minimum time between automatic switches.'),
    holdDown: DurationSchema.default(DEFAULT_HOLD_DOWN_MS).describe('An uplink whose switch failed to confirm is avoided for this long.'),
    confirmTimeout: DurationSchema.default(DEFAULT_CONFIRM_TIMEOUT_MS).describe('Time the new default route has to reach a confirm target before rollback.'),
    confirmTargets: z
      .array(z.string().regex(/^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/, 'must be HOST:PORT'))
      .default([])
      .describe(
        'TCP HOST:PORT reached through the new default to confirm a switch (e.g. the k3s API server); empty: the uplink probe targets. A dual-stack switch needs one target of each family it moved that has address targets ([v6]:PORT for IPv6).',
      ),
    revertGrace: DurationSchema.default(DEFAULT_REVERT_GRACE_MS).describe('Extra time the external revert helper waits past the confirm deadline.'),
    revertLauncher: z
      .enum(['detached', 'systemd-run', 'auto'])
      .default('detached')
      .describe(
        'How the external revert helper is started (once, with the agent; it is armed by a message before each switch): detached (a child that outlives the agent; the shipped unit sets KillMode=process for it), systemd-run (a transient unit outside the service cgroup, for units with KillMode=control-group; not yet tested on a running systemd), auto (systemd-run when systemd is PID 1).',
      ),
    reapplyInterval: DurationSchema.default(DEFAULT_REAPPLY_INTERVAL_MS).describe('Re-read routes and repair drift this often.'),
    tableBase: z
      .number()
      .int()
      .min(1000)
      .max(2_000_000_000)
      .default(DEFAULT_TABLE_BASE)
      .describe('First routing table id and rule priority used by linkward (uplink i: base+i).'),
    routeProto: z.number().int().min(5).max(250).default(DEFAULT_ROUTE_PROTO).describe('`proto` number marking linkward routes.'),
    mainMetric: z.number().int().min(0).default(DEFAULT_MAIN_METRIC).describe('Metric of the default route linkward sets in the main table.'),
    allowUnpinnedK3s: z
      .boolean()
      .default(false)
      .describe('Switch routes even though k3s does not pin --node-ip and --flannel-iface (flannel and the node IP may move).'),
    restoreOnStop: z
      .boolean()
      .default(true)
      .describe(
        'When the daemon stops, put back the default routes it found when it first started (remembered in state.db, so a restart or crash still knows them), then remove its own default route (never the last one). Off: the active route stays across a stop or restart.',
      ),
    cleanupOnStop: z.boolean().default(false).describe('Remove linkward tables and rules when the daemon stops (the main default route is kept).'),
  })
  .describe('Uplink failover policy.');

export type RoutePolicyConfig = z.infer<typeof RoutePolicySchema>;

/** The policy with every default applied. */
export function defaultRoutePolicy(): RoutePolicyConfig {
  return RoutePolicySchema.parse({});
}
