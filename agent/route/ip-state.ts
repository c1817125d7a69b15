/** Kernel routing state as plain values, parsed from `ip -json route show table all`, `ip -json rule`, `ip -json addr`. */
import { LwError } from '../errors.ts';
import { RouteErrorCode } from './errors.ts';

/** One IPv4 route (any table). `table` is `main`, `local`, ... or a number as text, as iproute2 prints it. */
export interface KernelRoute {
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
}

export interface KernelState {
  routes: KernelRoute[];
  rules: KernelRule[];
  links: KernelLink[];
}

function parseArray(text: string, what: string): Record<string, unknown>[] {
  let v: unknown;
  try {
    v = JSON.parse(text.trim() === '' ? '[]' : text);
  } catch (cause) {
    throw new LwError(RouteErrorCode.IP_OUTPUT, `could not parse \`${what}\` output as JSON: is iproute2 new enough (needs -json)?`, { cause, context: { head: text.slice(0, 200) } });
  }
  if (!Array.isArray(v)) throw new LwError(RouteErrorCode.IP_OUTPUT, `\`${what}\` did not print a JSON array`, { context: { head: text.slice(0, 200) } });
  return v.filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);

/** Parses `ip -4 -json route show table all` (IPv6 entries are ignored). */
export function parseRoutes(text: string): KernelRoute[] {
  const out: KernelRoute[] = [];
  for (const r of parseArray(text, 'ip -json route show table all')) {
    const dst = str(r.dst);
    if (dst === undefined || dst.includes(':')) continue;
    const gateway = str(r.gateway);
    if (gateway?.includes(':')) continue;
    out.push({
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

/** Parses `ip -4 -json rule show`. */
export function parseRules(text: string): KernelRule[] {
  return parseArray(text, 'ip -json rule show').map((r) => {
    const src = str(r.src) ?? 'all';
    const len = typeof r.srclen === 'number' ? r.srclen : undefined;
    return { priority: typeof r.priority === 'number' ? r.priority : 0, src: len !== undefined && len !== 32 ? `${src}/${len}` : src, table: str(r.table) ?? 'main' };
  });
}

/** Parses `ip -json addr show` (links with their IPv4 addresses). */
export function parseAddrs(text: string): KernelLink[] {
  return parseArray(text, 'ip -json addr show').map((l) => {
    const flags = Array.isArray(l.flags) ? l.flags.map(String) : [];
    const info = Array.isArray(l.addr_info) ? (l.addr_info as Record<string, unknown>[]) : [];
    return {
      name: str(l.ifname) ?? '?',
      up: flags.includes('UP'),
      lowerUp: flags.includes('LOWER_UP'),
      addrs: info.filter((a) => a.family === 'inet' && typeof a.local === 'string').map((a) => `${String(a.local)}/${String(a.prefixlen ?? 32)}`),
    };
  });
}

/** Default routes of the main table, best (lowest metric) first. */
export function mainDefaults(state: KernelState): KernelRoute[] {
  return state.routes.filter((r) => r.table === 'main' && r.dst === 'default' && r.type === 'unicast').sort((a, b) => a.metric - b.metric);
}

/** Renders a route as the `ip route` arguments that would recreate it (for snapshots and display). */
export function routeArgs(r: KernelRoute): string[] {
  return [r.dst, ...(r.gateway ? ['via', r.gateway] : []), ...(r.dev ? ['dev', r.dev] : []), ...(r.table !== 'main' ? ['table', r.table] : []), ...(r.metric !== 0 ? ['metric', String(r.metric)] : []), 'proto', r.protocol];
}
