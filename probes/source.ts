/** Resolves the local addresses a probe binds to, per family, so it leaves through the chosen uplink. */
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

/**
 * IPv4 as `resolveSourceAddress` (its error as the problem); IPv6: `sourceAddress6`, an IPv6 `sourceAddress`, else
 * the interface's first global IPv6 address. An uplink bound by interface or address has a problem, not "unbound",
 * for a family it lacks: a probe left unbound would measure whatever uplink the default route uses.
 */
export function resolveSources(
  u: Pick<UplinkConfig, 'name' | 'interface' | 'sourceAddress' | 'sourceAddress6'>,
  table: InterfaceTable = networkInterfaces(),
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
  const global6 = u.interface ? (table[u.interface] ?? []).find((a) => a.family === 'IPv6' && !a.internal && !isLinkLocal6(a.address)) : undefined;
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
