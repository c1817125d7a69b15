/** Config schema of `uplinks`: the network links this node can use (shared by probes and failover) and the failover policy. */
import { z } from 'zod';
import { DurationSchema, RoutePolicySchema, defaultRoutePolicy, type RoutePolicyConfig } from './route.ts';

/** Default daily probe budget per uplink: 50 MB keeps hourly throughput probes affordable on LTE plans. */
export const DEFAULT_UPLINK_BUDGET_BYTES = 50_000_000;
/** Metered uplinks get a stricter default budget (10 MB/day ≈ 0.3 GB/month). */
export const DEFAULT_METERED_BUDGET_BYTES = 10_000_000;
/** Time a NIC kept down while idle needs after `ip link set up` before it is probed (modems attach in seconds). */
export const DEFAULT_WARMUP_MS = 15_000;

export const UplinkSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/, 'must be 1-32 lowercase letters, digits or dashes')
      .describe('Short name used in labels, metrics and the CLI.'),
    interface: z.string().min(1).max(15).optional().describe('Network interface (e.g. eth0, wwan0). Omit to use whatever carries the default route.'),
    gateway: z.string().optional().describe('Next-hop address; omit to discover it from the routing table.'),
    sourceAddress: z
      .string()
      .optional()
      .describe("Local address probes bind to, so they leave through this uplink; omit to use the interface's first IPv4 address."),
    gateway6: z
      .string()
      .regex(/^([0-9a-fA-F:]+|auto)$/, 'must be an IPv6 address (e.g. fe80::1 or fd00:1::1) or auto')
      .optional()
      .describe(
        'IPv6 next hop (a link-local fe80:: router address is fine), or `auto` to learn it from the IPv6 default route via the interface (router advertisement, DHCPv6 or static), as an omitted `gateway` is learned. Set it to make the uplink dual-stack: linkward then switches the IPv6 default route, table and rule along with the IPv4 ones. Leave it out only if the uplink carries no IPv6: otherwise IPv6 traffic stays on it after a failover.',
      ),
    sourceAddress6: z
      .string()
      .regex(/^[0-9a-fA-F:]+$/, 'must be an IPv6 address')
      .optional()
      .describe("IPv6 source address of the uplink's `ip -6 rule from`; omit to use the interface's first global IPv6 address."),
    priority: z.number().int().min(0).max(1000).default(100).describe('Lower is preferred by the failover policy.'),
    metered: z.boolean().default(false).describe('Metered link (cellular, satellite): stricter probe budget, only high-priority telemetry.'),
    targets: z.array(z.string().min(1)).optional().describe('Probe targets for this uplink (host:port or URL); omit to use probes.targets.'),
    budgetBytesPerDay: z.number().int().nonnegative().optional().describe('Daily probe byte budget; default 50 MB, 10 MB when metered.'),
    idleDown: z
      .boolean()
      .default(false)
      .describe('Keep the NIC administratively down while not needed (e.g. a metered modem); brought up when the active uplink degrades.'),
    warmup: DurationSchema.default(DEFAULT_WARMUP_MS).describe('Wait after bringing an idle-down NIC up before trusting its probes (ms or 15s).'),
    table: z.number().int().min(1).max(2_000_000_000).optional().describe('Routing table id for this uplink; default uplinks.policy.tableBase + index.'),
  })
  .describe('One uplink.');

export type UplinkConfig = z.infer<typeof UplinkSchema>;

/** `uplinks:` after parsing, both forms alike; the top-level schema splits it into `uplinks` (the list) and `failover`. */
export interface UplinksParsed {
  list: UplinkConfig[];
  policy: RoutePolicyConfig;
}

const UplinkListSchema = z.array(UplinkSchema).superRefine((list, ctx) => {
  const seen = new Set<string>();
  list.forEach((u, i) => {
    if (seen.has(u.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate uplink name "${u.name}"` });
    seen.add(u.name);
  });
});

/**
 * `uplinks:` is either a list of uplinks, or `{ policy: {...}, list: [...] }` when the failover policy is tuned.
 * Both parse to `{ list, policy }`; AgentConfigSchema then exposes them as `config.uplinks` (a plain array) and
 * `config.failover`. (The policy once rode on the array as a hidden property; `structuredClone` dropped it and the
 * daemon ran on default policy, managing real routes despite `dryRun`.)
 */
export const UplinksSchema = z
  .union([
    UplinkListSchema,
    z.strictObject({
      policy: RoutePolicySchema.prefault({}),
      list: UplinkListSchema.default([]).describe('The uplinks.'),
    }),
  ])
  .transform((v): UplinksParsed => (Array.isArray(v) ? { list: v, policy: defaultRoutePolicy() } : { list: v.list, policy: v.policy }))
  .prefault([])
  .describe('Uplinks of this node: a list, or { policy, list } to tune failover. Empty: one implicit uplink named "default" on the current default route.');

/** Effective daily budget of an uplink. */
export function uplinkBudgetBytes(u: UplinkConfig): number {
  return u.budgetBytesPerDay ?? (u.metered ? DEFAULT_METERED_BUDGET_BYTES : DEFAULT_UPLINK_BUDGET_BYTES);
}

/** The uplinks to work with: the configured ones, or the implicit `default` uplink. */
export function effectiveUplinks(list: readonly UplinkConfig[]): UplinkConfig[] {
  if (list.length > 0) return [...list];
  return [UplinkSchema.parse({ name: 'default' })];
}
