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
 * IPv4 as `resolveSourceAddress` (its error as the problem); IPv6: `sourceAddress6`, else the interface's first
 * global IPv6 address. An uplink bound by interface or address has a problem, not "unbound", for a family it lacks:
 * a probe left unbound would measure whatever uplink the default route uses.
 */
export function resolveSources(
  u: Pick<UplinkConfig, 'name' | 'interface' | 'sourceAddress' | 'sourceAddress6'>,
  table: InterfaceTable = networkInterfaces(),
): UplinkSources {
  let v4: FamilySource = {};
  try {
    const a = resolveSourceAddress(u, table);
    if (a) v4 = { address: a };
  } catch (e) {
    v4 = { problem: messageOf(e) };
  }
  const global6 = u.interface ? (table[u.interface] ?? []).find((a) => a.family === 'IPv6' && !a.internal && !isLinkLocal6(a.address)) : undefined;
  let v6: FamilySource = {};
  if (u.sourceAddress6) v6 = { address: u.sourceAddress6 };
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

/** Targets that can be probed through the uplink, and for each that cannot, why (no source of its family). */
export function probeableTargets(targets: readonly ProbeTarget[], s: UplinkSources): { usable: ProbeTarget[]; skipped: { id: string; problem: string }[] } {
  const usable: ProbeTarget[] = [];
  const skipped: { id: string; problem: string }[] = [];
  for (const t of targets) {
    const problem = [...t.endpoints, ...(t.fallback ?? [])].map((e) => sourceOfHost(s, e.host).problem).find((p) => p !== undefined);
    if (problem === undefined) usable.push(t);
    else skipped.push({ id: t.id, problem });
  }
  return { usable, skipped };
}
