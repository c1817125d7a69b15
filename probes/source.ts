/** Resolves the local addresses a probe binds to, per family, so it leaves through the chosen uplink. */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { LwError, messageOf } from '../agent/base/errors.ts';
import type { UplinkConfig } from '../agent/config/uplinks.ts';
import { ProbeErrorCode } from './errors.ts';
import type { ProbeTarget } from './targets.ts';

/** Interfaces as Node reports them (injectable for tests). */
export type InterfaceTable = NodeJS.Dict<NetworkInterfaceInfo[]>;

/**
 * The uplink's source address: configured `sourceAddress`, else the first IPv4 of `interface`,
 * else undefined (no binding: the default route decides). Throws LW_PROBE_NO_SOURCE when the interface has no IPv4.
 */
export function resolveSourceAddress(
  u: Pick<UplinkConfig, 'name' | 'interface' | 'sourceAddress'>,
  table: InterfaceTable = networkInterfaces(),
): string | undefined {
  if (u.sourceAddress) return u.sourceAddress;
  if (!u.interface) return undefined;
  const v4 = (table[u.interface] ?? []).find((a) => a.family === 'IPv4' && !a.internal) ?? (table[u.interface] ?? []).find((a) => a.family === 'IPv4');
  if (!v4) {
    throw new LwError(
      ProbeErrorCode.NO_SOURCE,
      `uplink "${u.name}": interface ${u.interface} has no IPv4 address (down, or no DHCP lease); set uplinks[].sourceAddress or fix the interface`,
      { context: { uplink: u.name, interface: u.interface } },
    );
  }
  return v4.address;
}

/** Where probes of one family bind: an address, or why this uplink has none (neither: unbound, the default route decides). */
export interface FamilySource {
  address?: string;
  problem?: string;
}

/** An uplink's probe sources per family: IPv6 targets need an IPv6 address of the uplink to leave through it. */
export interface UplinkSources {
  v4: FamilySource;
  v6: FamilySource;
}

/** fe80::/10: a link-local address cannot reach a target beyond the router. */
const isLinkLocal6 = (a: string): boolean => /^fe[89ab]/i.test(a);

/** IFA_F_DADFAILED | IFA_F_TENTATIVE (linux/if_addr.h): the kernel refuses to bind these, as the route side skips them. */
const UNUSABLE6_FLAGS = 0x08 | 0x40;

/** An IPv6 address as 32 lowercase hex digits (the form of /proc/net/if_inet6); '' for what is not one. */
export function expand6(a: string): string {
  if (isIP(a) !== 6 || a.includes('.')) return '';
  const [head, tail] = a.toLowerCase().split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => g.padStart(4, '0')).join('');
}

/** Addresses /proc/net/if_inet6 marks tentative (duplicate address detection running) or dadfailed, expanded. */
export function unusable6(procText: string): Set<string> {
  const out = new Set<string>();
  for (const line of procText.split('\n')) {
    const [addr, , , , flags] = line.trim().split(/\s+/);
    if (addr?.length === 32 && flags !== undefined && (Number.parseInt(flags, 16) & UNUSABLE6_FLAGS) !== 0) out.add(addr);
  }
  return out;
}

/** The kernel's list (the route side reads the same flags from `ip -json addr`); empty when unreadable. */
function readUnusable6(): Set<string> {
  try {
    return unusable6(readFileSync('/proc/net/if_inet6', 'utf8'));
  } catch {
    return new Set();
  }
}

/**
 * IPv4 as `resolveSourceAddress` (its error as the problem); IPv6: `sourceAddress6`, an IPv6 `sourceAddress`, else
 * the interface's first global IPv6 address the kernel lets us bind (not tentative, not dadfailed: the address the
 * route side puts in the uplink's `ip -6 rule from`, so the probe really takes that uplink's table). An uplink bound by interface or address has a problem, not "unbound",
 * for a family it lacks: a probe left unbound would measure whatever uplink the default route uses.
 */
export function resolveSources(
  u: Pick<UplinkConfig, 'name' | 'interface' | 'sourceAddress' | 'sourceAddress6'>,
  table: InterfaceTable = networkInterfaces(),
  unusable: ReadonlySet<string> = readUnusable6(),
): UplinkSources {
  // an IPv6 sourceAddress (an IPv6-only uplink) is that family's source, not the IPv4 one
  const given6 = u.sourceAddress !== undefined && isIP(u.sourceAddress) === 6 ? u.sourceAddress : undefined;
  const for4 = given6 ? { ...u, sourceAddress: undefined } : u;
  let v4: FamilySource = {};
  try {
    const a = resolveSourceAddress(for4, table);
    if (a) v4 = { address: a };
    else if (given6)
      v4 = { problem: `uplink "${u.name}" binds probes to ${given6}, which cannot reach IPv4 targets; set uplinks[].interface or an IPv4 sourceAddress` };
  } catch (e) {
    v4 = { problem: messageOf(e) };
  }
  const global6 = u.interface
    ? (table[u.interface] ?? []).find((a) => a.family === 'IPv6' && !a.internal && !isLinkLocal6(a.address) && !unusable.has(expand6(a.address)))
    : undefined;
  let v6: FamilySource = {};
  if (u.sourceAddress6 ?? given6) v6 = { address: (u.sourceAddress6 ?? given6)! };
  else if (global6) v6 = { address: global6.address };
  else if (u.interface)
    v6 = {
      problem: `uplink "${u.name}": interface ${u.interface} has no global IPv6 address; IPv6 targets are not probed through it (set uplinks[].sourceAddress6, or wait for the address)`,
    };
  else if (u.sourceAddress)
    v6 = {
      problem: `uplink "${u.name}" binds probes to ${u.sourceAddress}, which cannot reach IPv6 targets; set uplinks[].sourceAddress6 to probe them through it`,
    };
  return { v4, v6 };
}

/** The family source a probe to `host` uses (an IPv6 literal: IPv6; an IPv4 literal or a name: IPv4). */
export const sourceOfHost = (s: UplinkSources, host: string): FamilySource => (isIP(host) === 6 ? s.v6 : s.v4);

/**
 * Targets that can be probed through the uplink, and for each that cannot, why. Only a missing IPv6 source sets a
 * target aside: IPv4 is what linkward routes an uplink by (no IPv4: the uplink cannot carry traffic), so a target
 * needing a missing IPv4 source is `fatal` and the round fails as a whole, as before dual-stack probing.
 */
export function probeableTargets(
  targets: readonly ProbeTarget[],
  s: UplinkSources,
): { usable: ProbeTarget[]; skipped: { id: string; problem: string }[]; fatal?: string } {
  const usable: ProbeTarget[] = [];
  const skipped: { id: string; problem: string }[] = [];
  let fatal: string | undefined;
  for (const t of targets) {
    const sources = [...t.endpoints, ...(t.fallback ?? [])].map((e) => ({ v6: isIP(e.host) === 6, src: sourceOfHost(s, e.host) }));
    const v4problem = sources.find((x) => !x.v6 && x.src.problem !== undefined)?.src.problem;
    const problem = v4problem ?? sources.find((x) => x.src.problem !== undefined)?.src.problem;
    if (v4problem !== undefined) fatal ??= v4problem;
    if (problem === undefined) usable.push(t);
    else skipped.push({ id: t.id, problem });
  }
  return { usable, skipped, ...(fatal !== undefined ? { fatal } : {}) };
}
