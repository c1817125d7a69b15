/** What `linkward init` knows of each interface beyond the routing table: type, virtual or not, speed (systeminformation). */

/** One interface as the proposal sees it. */
export interface InterfaceInfo {
  /** A software device (tunnel, bridge, dummy, veth): /sys/devices/virtual/net holds it. */
  virtual: boolean;
  wireless: boolean;
  /** Link speed in Mbit/s when the driver reports one. */
  speedMbps?: number;
}

/** The fields of systeminformation's networkInterfaces() entries that the proposal reads. */
export interface SiInterface {
  iface: string;
  virtual?: boolean;
  type?: string;
  speed?: number | null;
}

/** Pure: systeminformation's list → info by interface name. */
export function interfaceInfo(list: readonly SiInterface[]): Map<string, InterfaceInfo> {
  const out = new Map<string, InterfaceInfo>();
  for (const i of list) {
    const speed = typeof i.speed === 'number' && Number.isFinite(i.speed) && i.speed > 0 ? i.speed : undefined;
    out.set(i.iface, { virtual: i.virtual === true, wireless: i.type === 'wireless', ...(speed !== undefined ? { speedMbps: speed } : {}) });
  }
  return out;
}

/**
 * Reads every interface with systeminformation (a one-shot CLI command: its synchronous helper commands are fine here,
 * unlike in the daemon, which reads sysfs itself: probes/passive.ts). An empty map when it fails: the proposal then
 * relies on names alone.
 */
export async function describeInterfaces(): Promise<Map<string, InterfaceInfo>> {
  try {
    const si = await import('systeminformation');
    const all = await si.networkInterfaces();
    return interfaceInfo(Array.isArray(all) ? all : [all]);
  } catch {
    return new Map();
  }
}
