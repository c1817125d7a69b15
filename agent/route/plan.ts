/** Route planning (pure): resolve uplinks against the kernel, compute the desired routes/rules/links, diff into ordered `ip` argv lists. */
import type { UplinkConfig } from '../config/uplinks.ts';
import { mainDefaults, type KernelState } from './ip-state.ts';

/** An uplink with everything needed to route through it. */
export interface ResolvedUplink {
  name: string;
  dev: string;
  gateway: string;
  /** Source address (no prefix) used in `ip rule from`. */
  src: string;
  table: number;
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
}

/** One `ip` invocation (arguments after `ip`). */
export type IpArgv = readonly string[];

/** Highest number of uplinks linkward manages tables for; tables base..base+MAX_UPLINKS-1 are treated as linkward's. */
export const MAX_UPLINKS = 64;

const bare = (cidr: string): string => cidr.split('/')[0] ?? cidr;

/** Fills interface, gateway and source address from the kernel where the config leaves them out; lists what cannot be resolved. */
export function resolveUplinks(list: readonly UplinkConfig[], kernel: KernelState, opts: Pick<PlanOptions, 'tableBase'>): { uplinks: ResolvedUplink[]; problems: string[] } {
  const uplinks: ResolvedUplink[] = [];
  const problems: string[] = [];
  list.forEach((u, i) => {
    const dev = u.interface;
    if (!dev) return void problems.push(`${u.name}: set uplinks[].interface (needed to route through it)`);
    const link = kernel.links.find((l) => l.name === dev);
    const gateway = u.gateway ?? kernel.routes.find((r) => r.dst === 'default' && r.dev === dev && r.gateway)?.gateway;
    if (!gateway) return void problems.push(`${u.name}: no gateway configured and no default route via ${dev} to learn it from; set uplinks[].gateway`);
    const src = u.sourceAddress ?? (link?.addrs[0] ? bare(link.addrs[0]) : undefined);
    if (!src) return void problems.push(`${u.name}: ${dev} has no IPv4 address${link ? '' : ' (interface not found)'}; set uplinks[].sourceAddress or bring it up`);
    uplinks.push({ name: u.name, dev, gateway, src, table: u.table ?? opts.tableBase + i });
  });
  return { uplinks, problems };
}

/** The uplink whose gateway/interface carries the best main default route now (null: none matches). */
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

/**
 * Ordered commands taking `kernel` to `desired`: NICs up, per-uplink table routes, rules, the main default
 * (one atomic `replace`, never a delete of the last default), stale entries, NICs down.
 */
export function planCommands(desired: DesiredRoutes, kernel: KernelState, opts: PlanOptions): IpArgv[] {
  const cmds: IpArgv[] = [];
  const proto = String(opts.routeProto);
  const linkUp = (dev: string): boolean | undefined => kernel.links.find((l) => l.name === dev)?.up;

  for (const [dev, up] of Object.entries(desired.links)) if (up && linkUp(dev) === false) cmds.push(['link', 'set', 'dev', dev, 'up']);

  const wantTables = opts.perUplinkTables ? desired.tables : [];
  for (const u of wantTables) {
    const have = kernel.routes.find((r) => r.table === String(u.table) && r.dst === 'default');
    if (!have || have.gateway !== u.gateway || have.dev !== u.dev || have.protocol !== proto) {
      cmds.push(['route', 'replace', 'default', 'via', u.gateway, 'dev', u.dev, 'table', String(u.table), 'proto', proto]);
    }
  }
  for (const u of wantTables) {
    if (!kernel.rules.some((r) => r.priority === u.table && r.src === u.src && r.table === String(u.table))) {
      cmds.push(['rule', 'add', 'from', u.src, 'lookup', String(u.table), 'priority', String(u.table)]);
    }
  }

  if (desired.active) {
    const a = desired.active;
    const have = kernel.routes.find((r) => r.table === 'main' && r.dst === 'default' && r.metric === opts.mainMetric && r.type === 'unicast');
    if (!have || have.gateway !== a.gateway || have.dev !== a.dev || have.protocol !== proto) {
      cmds.push(['route', 'replace', 'default', 'via', a.gateway, 'dev', a.dev, 'metric', String(opts.mainMetric), 'proto', proto]);
    }
  }

  // Stale rules and table routes that linkward owns but no longer wants.
  for (const r of kernel.rules) {
    const ours = isOurTable(r.table, desired, opts) || (r.priority >= opts.tableBase && r.priority < opts.tableBase + MAX_UPLINKS);
    if (!ours) continue;
    if (wantTables.some((u) => r.priority === u.table && r.src === u.src && r.table === String(u.table))) continue;
    cmds.push(['rule', 'del', 'priority', String(r.priority), 'from', r.src, 'lookup', r.table]);
  }
  for (const r of kernel.routes) {
    if (r.table === 'main' || !isOurTable(r.table, desired, opts)) continue;
    const want = wantTables.find((u) => String(u.table) === r.table);
    if (want && r.dst === 'default') continue;
    cmds.push(['route', 'del', r.dst, ...(r.gateway ? ['via', r.gateway] : []), ...(r.dev ? ['dev', r.dev] : []), 'table', r.table]);
  }
  // Our own main defaults at another metric (config changed): remove only while another default remains.
  const defaults = mainDefaults(kernel);
  let remaining = defaults.length + (desired.active && !defaults.some((d) => d.metric === opts.mainMetric) ? 1 : 0);
  for (const d of defaults) {
    if (d.protocol !== proto || d.metric === opts.mainMetric || remaining <= 1) continue;
    cmds.push(['route', 'del', 'default', ...(d.gateway ? ['via', d.gateway] : []), ...(d.dev ? ['dev', d.dev] : []), 'metric', String(d.metric)]);
    remaining--;
  }

  for (const [dev, up] of Object.entries(desired.links)) {
    if (up || linkUp(dev) !== true || desired.active?.dev === dev) continue;
    cmds.push(['link', 'set', 'dev', dev, 'down']);
  }
  return cmds;
}

/** Commands that remove every table route and rule linkward installed; the main default route stays (never the last default). */
export function cleanupCommands(kernel: KernelState, opts: PlanOptions, known: readonly ResolvedUplink[] = []): IpArgv[] {
  return planCommands({ active: null, tables: [...known], links: {} }, kernel, { ...opts, perUplinkTables: false });
}

/** `ip ...` text of a command list (golden tests, dry-run and status output). */
export function renderCommands(cmds: readonly IpArgv[]): string {
  return cmds.map((c) => `ip ${c.join(' ')}`).join('\n');
}
