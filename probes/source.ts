/** Resolves the local address a probe binds to, so it leaves through the chosen uplink. */
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { LwError } from '../agent/base/errors.ts';
import type { UplinkConfig } from '../agent/config/uplinks.ts';
import { ProbeErrorCode } from './errors.ts';

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
