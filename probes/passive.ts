/** Passive measurement: /proc/net/dev byte counters → observed rates, and link facts (operstate, carrier, speed). */
import { access, readFile } from 'node:fs/promises';

/** Cumulative counters of one interface at one time. */
export interface IfCounters {
  rxBytes: number;
  txBytes: number;
}

/** Observed rates between two readings. */
export interface ObservedRates {
  rxMbps: number;
  txMbps: number;
  intervalMs: number;
}

/** Facts about an interface (absent when unknown). */
export interface LinkFacts {
  operstate?: string;
  carrier?: boolean;
  speedMbps?: number;
  /** Wi-Fi signal (dBm) when the interface is wireless. */
  wifiSignalDbm?: number;
}

/** Parses /proc/net/dev text into counters per interface. */
export function parseProcNetDev(text: string): Map<string, IfCounters> {
  const out = new Map<string, IfCounters>();
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const f = (m[2] as string).trim().split(/\s+/).map(Number);
    if (f.length < 16) continue;
    out.set(m[1] as string, { rxBytes: f[0] as number, txBytes: f[8] as number });
  }
  return out;
}

/** Rates between two readings; undefined when the interval is empty or a counter went backwards (wrap/reset). */
export function ratesBetween(prev: IfCounters, prevMs: number, cur: IfCounters, curMs: number): ObservedRates | undefined {
  const dt = curMs - prevMs;
  if (dt <= 0 || cur.rxBytes < prev.rxBytes || cur.txBytes < prev.txBytes) return undefined;
  return { rxMbps: ((cur.rxBytes - prev.rxBytes) * 8) / dt / 1000, txMbps: ((cur.txBytes - prev.txBytes) * 8) / dt / 1000, intervalMs: dt };
}

/** True when real traffic already proves both thresholds, so an active throughput probe can be skipped. */
export function trafficProvesThresholds(rates: ObservedRates | undefined, downMbps: number | undefined, upMbps: number | undefined): boolean {
  if (!rates || (downMbps === undefined && upMbps === undefined)) return false;
  return (downMbps === undefined || rates.rxMbps >= downMbps) && (upMbps === undefined || rates.txMbps >= upMbps);
}

/** Reads the counters of all interfaces (`path` is injectable for tests). */
export async function readCounters(path = '/proc/net/dev'): Promise<Map<string, IfCounters>> {
  return parseProcNetDev(await readFile(path, 'utf8'));
}

/** Link facts: operstate/speed from systeminformation, carrier from sysfs; never throws. */
export async function readLinkFacts(iface: string, sysfsRoot = '/sys/class/net'): Promise<LinkFacts> {
  const facts: LinkFacts = {};
  try {
    const si = await import('systeminformation');
    const all = await si.networkInterfaces();
    const list = Array.isArray(all) ? all : [all];
    const me = list.find((i) => i.iface === iface);
    if (me) {
      if (me.operstate) facts.operstate = me.operstate;
      if (typeof me.speed === 'number' && me.speed > 0) facts.speedMbps = me.speed;
    }
  } catch {
    /* systeminformation unavailable: carrier from sysfs is enough */
  }
  try {
    // only wireless interfaces have this directory; systeminformation's Wi-Fi scan runs iw/nmcli, so skip it otherwise
    await access(`${sysfsRoot}/${iface}/wireless`);
    const si = await import('systeminformation');
    const conn = (await si.wifiConnections()).find((c) => c.iface === iface);
    if (conn && Number.isFinite(conn.signalLevel) && conn.signalLevel !== 0) facts.wifiSignalDbm = conn.signalLevel;
  } catch {
    /* not wireless, or no Wi-Fi tools */
  }
  const carrier = await readCarrier(iface, sysfsRoot);
  if (carrier !== undefined) facts.carrier = carrier;
  else if (facts.operstate === 'down') facts.carrier = false;
  return facts;
}

/** Carrier from sysfs (one small file: cheap enough for every light round); undefined when unreadable. */
export async function readCarrier(iface: string, sysfsRoot = '/sys/class/net'): Promise<boolean | undefined> {
  try {
    return (await readFile(`${sysfsRoot}/${iface}/carrier`, 'utf8')).trim() === '1';
  } catch {
    /* interface administratively down or gone: reading carrier fails with EINVAL/ENOENT */
    try {
      await access(`${sysfsRoot}/${iface}`);
      return false;
    } catch {
      return undefined;
    }
  }
}
