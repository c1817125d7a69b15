/** Route planning (pure): resolve uplinks against the kernel, compute the desired routes/rules/links per family, diff into ordered `ip` argv lists. */
import type { UplinkConfig } from '../config/uplinks.ts';
import { famOf, familyArgs, mainDefaults, type Family, type KernelState } from './ip-state.ts';

/** An uplink with everything needed to route through it. */
export interface ResolvedUplink {
  name: string;
  dev: string;
  gateway: string;
  /** Source address (no prefix) used in `ip rule from`. */
  src: string;
  table: number;
  /** IPv6 next hop and source address of a dual-stack uplink (absent: IPv4 only, or its IPv6 side is unresolved). */
  v6?: { gateway: string; src: string };
}

export interface PlanOptions {
  perUplinkTables: boolean;
  tableBase: number;
  routeProto: number;
  mainMetric: number;
}

/** What the kernel should look like. */
export interface DesiredRoutes {
  /** Uplink carrying the main default route (null: leave the main table alone). */
  active: ResolvedUplink | null;
  tables: ResolvedUplink[];
  /** Desired admin state of idle-down NICs. */
  links: Record<string, boolean>;
  /**
   * Tables (and rules of the same priority) of configured uplinks that could not be resolved from the kernel (no
   * address, interface missing): what is there is unknown-to-us, so it is left exactly as it is, never deleted.
   */
  keep?: readonly { family: Family; table: number }[];
}

/** One `ip` invocation (arguments after `ip`). */
export type IpArgv = readonly string[];

/** Highest number of uplinks linkward manages tables for; tables base..base+MAX_UPLINKS-1 are treated as linkward's. */
export const MAX_UPLINKS = 64;

/**
 * Metric of linkward's IPv6 main default when `mainMetric` is 0: the kernel turns an IPv6 metric 0 into 1024, the
 * metric of router-advertised defaults, which would then tie with them; 1 still wins over every DHCP/RA/NM default.
 */
export const IPV6_METRIC_FOR_ZERO = 1;

/** The metric linkward's main default route has in `family`. */
export const mainMetricOf = (family: Family, mainMetric: number): number => (family === 6 && mainMetric === 0 ? IPV6_METRIC_FOR_ZERO : mainMetric);

/** `gateway6` value that learns the IPv6 next hop from the kernel (a router-advertised default, typically). */
export const GATEWAY6_AUTO = 'auto';

/**
 * The next hop of a default route via `dev` in `family`, from any table, the host's own routes (DHCP, router
 * advertisement, static) first, so a router that changed its address is followed rather than linkward's old copy.
 * IPv4 falls back to linkward's copy (`routeProto`, in the uplink's table) when the host's is gone, as it always has (a
 * lease that ran out while the uplink was dead). IPv6 does not: a router-advertised default disappears when the router
 * withdraws it (router lifetime 0: no IPv6 upstream there), and linkward must not keep routing IPv6 through it.
 */
function learnGateway(kernel: KernelState, family: Family, dev: string, routeProto: number): string | undefined {
  const defaults = kernel.routes.filter((r) => famOf(r) === family && r.dst === 'default' && r.dev === dev && r.gateway);
  const proto = String(routeProto);
  const host = defaults.find((r) => r.protocol !== proto);
  return (host ?? (family === 4 ? defaults[0] : undefined))?.gateway;
}

/** Families the kernel must be read in for these uplinks: IPv6 too when any uplink is dual-stack (`gateway6`). */
export function familiesFor(list: readonly UplinkConfig[]): Family[] {
  return list.some((u) => u.gateway6 !== undefined) ? [4, 6] : [4];
}

const bare = (cidr: string): string => cidr.split('/')[0] ?? cidr;

/** Table id of the i-th configured uplink. */
export const tableOf = (u: UplinkConfig, i: number, opts: Pick<PlanOptions, 'tableBase'>): number => u.table ?? opts.tableBase + i;

/**
 * Fills interface, gateway and source addresses from the kernel where the config leaves them out; lists what cannot
 * be resolved. `unresolved` holds the tables of uplinks (per family) the kernel did not let us resolve.
 */
export function resolveUplinks(
  list: readonly UplinkConfig[],
  kernel: KernelState,
  opts: Pick<PlanOptions, 'tableBase' | 'routeProto'>,
): { uplinks: ResolvedUplink[]; problems: string[]; unresolved: { family: Family; table: number }[] } {
  const uplinks: ResolvedUplink[] = [];
  const problems: string[] = [];
  const unresolved: { family: Family; table: number }[] = [];
  const v6read = (kernel.families ?? [4]).includes(6);
  list.forEach((u, i) => {
    const table = tableOf(u, i, opts);
    const skip = (problem: string): void => {
      problems.push(problem);
      unresolved.push({ family: 4, table }, { family: 6, table });
    };
    const dev = u.interface;
    if (!dev) return skip(`${u.name}: set uplinks[].interface (needed to route through it)`);
    const link = kernel.links.find((l) => l.name === dev);
    const gateway = u.gateway ?? learnGateway(kernel, 4, dev, opts.routeProto);
    if (!gateway) return skip(`${u.name}: no gateway configured and no default route via ${dev} to learn it from; set uplinks[].gateway`);
    const src = u.sourceAddress ?? (link?.addrs[0] ? bare(link.addrs[0]) : undefined);
    if (!src) return skip(`${u.name}: ${dev} has no IPv4 address${link ? '' : ' (interface not found)'}; set uplinks[].sourceAddress or bring it up`);
    const r: ResolvedUplink = { name: u.name, dev, gateway, src, table };
    if (u.gateway6 !== undefined && v6read) {
      const gateway6 = u.gateway6 === GATEWAY6_AUTO ? learnGateway(kernel, 6, dev, opts.routeProto) : u.gateway6;
      const src6 = u.sourceAddress6 ?? (link?.addrs6?.[0] ? bare(link.addrs6[0]) : undefined);
      if (gateway6 && src6) r.v6 = { gateway: gateway6, src: src6 };
      else {
        problems.push(
          gateway6
            ? `${u.name}: ${dev} has no global IPv6 address; its IPv6 routes are left as they are (set uplinks[].sourceAddress6 or wait for the address)`
            : `${u.name}: gateway6 is auto but the host has no IPv6 default route via ${dev} to learn it from (no router advertisement yet, the router withdrew it, or a multipath route); its IPv6 routes are left as they are (set uplinks[].gateway6 to the router's address, or remove it if ${dev} has no IPv6)`,
        );
        unresolved.push({ family: 6, table });
      }
    }
    uplinks.push(r);
  });
  return { uplinks, problems, unresolved };
}

/** The uplink whose gateway/interface carries the best IPv4 main default route now (null: none matches). */
export function currentActive(uplinks: readonly ResolvedUplink[], kernel: KernelState): string | null {
  const best = mainDefaults(kernel)[0];
  if (!best) return null;
  return uplinks.find((u) => u.dev === best.dev && (best.gateway === undefined || u.gateway === best.gateway))?.name ?? null;
}

function isOurTable(table: string, desired: DesiredRoutes, opts: PlanOptions): boolean {
  const n = Number(table);
  if (!Number.isInteger(n)) return false;
  return (n >= opts.tableBase && n < opts.tableBase + MAX_UPLINKS) || desired.tables.some((u) => u.table === n);
}

/** Next hop and source of an uplink in a family (null: the uplink has no resolved side in that family). */
const side = (u: ResolvedUplink, f: Family): { gateway: string; src: string } | null => (f === 4 ? { gateway: u.gateway, src: u.src } : (u.v6 ?? null));

/**
 * Ordered commands taking `kernel` to `desired`: NICs up, then per family the per-uplink table routes, rules, the
 * main default (one atomic `replace`, never a delete of the last default) and stale entries; NICs down last.
 * Only families the kernel was read in are planned; entries of `desired.keep` tables are never touched.
 */
export function planCommands(desired: DesiredRoutes, kernel: KernelState, opts: PlanOptions): IpArgv[] {
  const cmds: IpArgv[] = [];
  const linkUp = (dev: string): boolean | undefined => kernel.links.find((l) => l.name === dev)?.up;

  for (const [dev, up] of Object.entries(desired.links)) if (up && linkUp(dev) === false) cmds.push(['link', 'set', 'dev', dev, 'up']);
  for (const f of kernel.families ?? [4]) cmds.push(...planFamily(f, desired, kernel, opts));
  for (const [dev, up] of Object.entries(desired.links)) {
    if (up || linkUp(dev) !== true || desired.active?.dev === dev) continue;
    cmds.push(['link', 'set', 'dev', dev, 'down']);
  }
  return cmds;
}

function planFamily(f: Family, desired: DesiredRoutes, kernel: KernelState, opts: PlanOptions): IpArgv[] {
  const cmds: IpArgv[] = [];
  const fa = familyArgs(f);
  const proto = String(opts.routeProto);
  const metric = mainMetricOf(f, opts.mainMetric);
  const routes = kernel.routes.filter((r) => famOf(r) === f);
  const rules = kernel.rules.filter((r) => famOf(r) === f);
  const kept = (n: number): boolean => (desired.keep ?? []).some((k) => k.family === f && k.table === n);

  const wantTables = opts.perUplinkTables ? desired.tables.filter((u) => side(u, f) !== null) : [];
  for (const u of wantTables) {
    const s = side(u, f)!;
    const have = routes.find((r) => r.table === String(u.table) && r.dst === 'default');
    if (!have || have.gateway !== s.gateway || have.dev !== u.dev || have.protocol !== proto) {
      cmds.push([...fa, 'route', 'replace', 'default', 'via', s.gateway, 'dev', u.dev, 'table', String(u.table), 'proto', proto]);
    }
  }
  const wantRule = (r: { priority: number; src: string; table: string }): boolean =>
    wantTables.some((u) => r.priority === u.table && r.src === side(u, f)!.src && r.table === String(u.table));
  for (const u of wantTables) {
    const src = side(u, f)!.src;
    if (!rules.some((r) => r.priority === u.table && r.src === src && r.table === String(u.table))) {
      cmds.push([...fa, 'rule', 'add', 'from', src, 'lookup', String(u.table), 'priority', String(u.table)]);
    }
  }

  const active = desired.active ? side(desired.active, f) : null;
  if (desired.active && active) {
    const have = routes.find((r) => r.table === 'main' && r.dst === 'default' && r.metric === metric && r.type === 'unicast');
    if (!have || have.gateway !== active.gateway || have.dev !== desired.active.dev || have.protocol !== proto) {
      cmds.push([...fa, 'route', 'replace', 'default', 'via', active.gateway, 'dev', desired.active.dev, 'metric', String(metric), 'proto', proto]);
    }
  }

  // Stale rules and table routes that linkward owns but no longer wants (never those of an unresolved uplink).
  for (const r of rules) {
    const ours = isOurTable(r.table, desired, opts) || (r.priority >= opts.tableBase && r.priority < opts.tableBase + MAX_UPLINKS);
    if (!ours || wantRule(r) || kept(r.priority) || kept(Number(r.table))) continue;
    cmds.push([...fa, 'rule', 'del', 'priority', String(r.priority), 'from', r.src, 'lookup', r.table]);
  }
  for (const r of routes) {
    if (r.table === 'main' || !isOurTable(r.table, desired, opts) || kept(Number(r.table))) continue;
    const want = wantTables.find((u) => String(u.table) === r.table);
    if (want && r.dst === 'default') continue;
    cmds.push([...fa, 'route', 'del', r.dst, ...(r.gateway ? ['via', r.gateway] : []), ...(r.dev ? ['dev', r.dev] : []), 'table', r.table]);
  }
  // Our own main defaults not wanted: at another metric (config changed), or in IPv6 when the active uplink has no
  // IPv6 side. Removed only while another default of the family remains (never the last default route).
  const defaults = mainDefaults(kernel, f);
  const keepAt = active ? metric : f === 4 || !desired.active ? metric : null;
  let remaining = defaults.length + (active && !defaults.some((d) => d.metric === metric) ? 1 : 0);
  for (const d of defaults) {
    if (d.protocol !== proto || d.metric === keepAt || remaining <= 1) continue;
    cmds.push([...fa, 'route', 'del', 'default', ...(d.gateway ? ['via', d.gateway] : []), ...(d.dev ? ['dev', d.dev] : []), 'metric', String(d.metric)]);
    remaining--;
  }
  return cmds;
}

/** Commands that remove every table route and rule linkward installed (both families read); main default routes stay (see restore.ts). */
export function cleanupCommands(kernel: KernelState, opts: PlanOptions, known: readonly ResolvedUplink[] = []): IpArgv[] {
  return planCommands({ active: null, tables: [...known], links: {} }, kernel, { ...opts, perUplinkTables: false });
}

/** `ip ...` text of a command list (golden tests, dry-run and status output). */
/** True for a command that changes a default route of the main table (what a switch moves), read from its arguments. */
export function isMainDefault(argv: IpArgv): boolean {
  const op = argv.indexOf('route');
  return op >= 0 && argv[op + 2] === 'default' && !argv.includes('table');
}

export function renderCommands(cmds: readonly IpArgv[]): string {
  return cmds.map((c) => `ip ${c.join(' ')}`).join('\n');
}
