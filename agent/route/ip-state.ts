/** Kernel routing state as plain values, parsed strictly from `ip -json` route/rule/addr output; anything doubtful is unknown, never empty. */
import { LwError } from '../base/errors.ts';
import { RouteErrorCode } from './errors.ts';

/** Address family: 4 (`ip -4`) or 6 (`ip -6`). Routes and rules of the two families live in separate kernel tables. */
export type Family = 4 | 6;

/** One route (any table). `table` is `main`, `local`, ... or a number as text, as iproute2 prints it. */
export interface KernelRoute {
  /** Absent means 4 (states written before IPv6 support). */
  family?: Family;
  table: string;
  dst: string;
  gateway?: string;
  dev?: string;
  metric: number;
  protocol: string;
  prefsrc?: string;
  type: string;
}

export interface KernelRule {
  /** Absent means 4. */
  family?: Family;
  priority: number;
  /** `all` or an address/prefix. */
  src: string;
  table: string;
}

export interface KernelLink {
  name: string;
  /** Administratively up (IFF_UP). */
  up: boolean;
  /** Carrier / lower layer up. */
  lowerUp: boolean;
  /** IPv4 addresses with prefix length, e.g. `10.0.1.2/24`. */
  addrs: string[];
  /** Global-scope IPv6 addresses with prefix length (no link-local, no tentative or failed DAD); absent: none. */
  addrs6?: string[];
}

/** Kernel state from a read that succeeded in full. Only ever built from a *known* read (see KernelRead). */
export interface KernelState {
  routes: KernelRoute[];
  rules: KernelRule[];
  links: KernelLink[];
  /** Families whose routes and rules were read; absent: [4]. The planner never plans a family it did not read. */
  families?: Family[];
}

/** Which `ip` read a verdict is about. */
export type StatePart = 'routes' | 'rules' | 'addrs' | 'routes6' | 'rules6';

/** Why a read is unknown: the command failed or timed out, printed nothing, printed garbage or truncated JSON, or an implausible list. */
export type UnknownReason = 'failed' | 'timeout' | 'empty' | 'garbage' | 'incomplete';

/**
 * The result of reading the kernel. A failed, timed-out, empty, garbled or partial read is `known: false`: callers
 * must not take it as "no routes / no rules / no interfaces", and nothing is ever deleted on it.
 */
export type KernelRead = { known: true; state: KernelState } | { known: false; part: StatePart; reason: UnknownReason; why: string };

const head = (text: string): string => text.slice(0, 200);

function bad(reason: UnknownReason, what: string, message: string, text: string): LwError {
  return new LwError(RouteErrorCode.IP_OUTPUT, `\`${what}\` ${message}`, { context: { reason, head: head(text) } });
}

/** Parses a JSON array of objects; throws LW_ROUTE_IP_OUTPUT (context.reason empty | garbage) for anything else. */
function parseArray(text: string, what: string): Record<string, unknown>[] {
  // iproute2 prints `[]` for an empty list: no output at all means the command did not do its job.
  if (text.trim() === '') throw bad('empty', what, 'printed nothing (an empty list is `[]`): the read is unknown, not empty', text);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (cause) {
    const e = bad('garbage', what, 'output is not complete JSON (garbage or cut short); is iproute2 new enough (needs -json)?', text);
    (e as { cause?: unknown }).cause = cause;
    throw e;
  }
  if (!Array.isArray(v)) throw bad('garbage', what, 'did not print a JSON array', text);
  if (!v.every((x) => typeof x === 'object' && x !== null && !Array.isArray(x))) throw bad('garbage', what, 'printed an array with non-object entries', text);
  return v as Record<string, unknown>[];
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);

/** Parses `ip -4|-6 -json route show table all`; entries of the other family are skipped. */
export function parseRoutes(text: string, family: Family = 4): KernelRoute[] {
  const what = `ip -${family} -json route show table all`;
  const out: KernelRoute[] = [];
  for (const r of parseArray(text, what)) {
    const dst = str(r.dst);
    if (dst === undefined) throw bad('garbage', what, 'printed a route without "dst"', text);
    if (dst !== 'default' && dst.includes(':') !== (family === 6)) continue;
    const gateway = str(r.gateway);
    if (gateway !== undefined && gateway.includes(':') !== (family === 6)) continue;
    out.push({
      ...(family === 6 ? { family } : {}),
      table: str(r.table) ?? 'main',
      dst,
      ...(gateway !== undefined ? { gateway } : {}),
      ...(str(r.dev) !== undefined ? { dev: str(r.dev)! } : {}),
      metric: typeof r.metric === 'number' ? r.metric : 0,
      protocol: str(r.protocol) ?? 'boot',
      ...(str(r.prefsrc) !== undefined ? { prefsrc: str(r.prefsrc)! } : {}),
      type: str(r.type) ?? 'unicast',
    });
  }
  return out;
}

/** Parses `ip -4|-6 -json rule show`. */
export function parseRules(text: string, family: Family = 4): KernelRule[] {
  const what = `ip -${family} -json rule show`;
  const full = family === 6 ? 128 : 32;
  return parseArray(text, what).map((r) => {
    if (typeof r.priority !== 'number') throw bad('garbage', what, 'printed a rule without "priority"', text);
    const src = str(r.src) ?? 'all';
    const len = typeof r.srclen === 'number' ? r.srclen : undefined;
    return {
      ...(family === 6 ? { family } : {}),
      priority: r.priority,
      src: len !== undefined && len !== full ? `${src}/${len}` : src,
      table: str(r.table) ?? 'main',
    };
  });
}

/** Parses `ip -json addr show` (links with their IPv4 and global IPv6 addresses). */
export function parseAddrs(text: string): KernelLink[] {
  const what = 'ip -json addr show';
  return parseArray(text, what).map((l) => {
    const name = str(l.ifname);
    if (name === undefined) throw bad('garbage', what, 'printed a link without "ifname"', text);
    if (!Array.isArray(l.addr_info)) throw bad('garbage', what, `printed ${name} without "addr_info"`, text);
    const flags = Array.isArray(l.flags) ? l.flags.map(String) : [];
    const info = (l.addr_info as unknown[]).filter((a): a is Record<string, unknown> => typeof a === 'object' && a !== null);
    const cidr = (a: Record<string, unknown>): string => `${String(a.local)}/${String(a.prefixlen ?? (a.family === 'inet6' ? 128 : 32))}`;
    const addrs6 = info
      .filter((a) => a.family === 'inet6' && typeof a.local === 'string' && a.scope === 'global' && a.tentative !== true && a.dadfailed !== true)
      .map(cidr);
    return {
      name,
      up: flags.includes('UP'),
      lowerUp: flags.includes('LOWER_UP'),
      addrs: info.filter((a) => a.family === 'inet' && typeof a.local === 'string').map(cidr),
      ...(addrs6.length > 0 ? { addrs6 } : {}),
    };
  });
}

/**
 * Cross-checks that no complete read can fail: every namespace has `lo`; rules always include at least the
 * `local`/`main` ones; an up interface with an address always has a local route. A read that fails them was
 * cut short. Returns the problem, or null.
 */
export function implausible(state: KernelState): { part: StatePart; why: string } | null {
  if (!state.links.some((l) => l.name === 'lo')) return { part: 'addrs', why: '`ip -json addr show` lists no loopback interface: the read is incomplete' };
  for (const f of state.families ?? [4]) {
    const sfx = f === 6 ? '6' : '';
    if (!state.rules.some((r) => famOf(r) === f))
      return {
        part: `rules${sfx}` as StatePart,
        why: `\`ip -${f} -json rule show\` printed no rules (the kernel always has its local and main rules): the read is incomplete`,
      };
    const addressed = state.links.some((l) => l.up && (f === 6 ? (l.addrs6?.length ?? 0) : l.addrs.length) > 0);
    if (addressed && !state.routes.some((r) => famOf(r) === f))
      return {
        part: `routes${sfx}` as StatePart,
        why: `\`ip -${f} -json route show table all\` printed no routes although interfaces have IPv${f} addresses: the read is incomplete`,
      };
  }
  return null;
}

/** Family of a route or rule (absent: 4). */
export const famOf = (x: { family?: Family }): Family => x.family ?? 4;

/** Default routes of the main table of one family (default IPv4), best (lowest metric) first. */
export function mainDefaults(state: KernelState, family: Family = 4): KernelRoute[] {
  return state.routes
    .filter((r) => famOf(r) === family && r.table === 'main' && r.dst === 'default' && r.type === 'unicast')
    .sort((a, b) => a.metric - b.metric);
}

/** `ip` arguments selecting the family: none for IPv4 (as before IPv6 support), `-6` for IPv6. */
export const familyArgs = (family: Family): string[] => (family === 6 ? ['-6'] : []);

/** Renders a route as the `ip route` arguments that would recreate it (for snapshots and display; no family flag). */
export function routeArgs(r: KernelRoute): string[] {
  return [
    r.dst,
    ...(r.gateway ? ['via', r.gateway] : []),
    ...(r.dev ? ['dev', r.dev] : []),
    ...(r.table !== 'main' ? ['table', r.table] : []),
    ...(r.metric !== 0 ? ['metric', String(r.metric)] : []),
    'proto',
    r.protocol,
  ];
}
