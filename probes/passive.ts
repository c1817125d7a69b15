/** Passive measurement: /proc/net/dev byte counters → observed rates, and link facts from sysfs (operstate, carrier, speed, Wi-Fi signal). */
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

/**
 * Link facts straight from the kernel: operstate, speed and carrier from sysfs, the Wi-Fi signal from
 * /proc/net/wireless; a few small async file reads, never a child process (systeminformation runs `ip`, `nmcli` and
 * `iw` through a shell with execSync: it blocked the event loop for 2.5 s per 146 s of an idle agent, measured with
 * --cpu-prof, docs/BENCHMARKS.md session 13). Never throws.
 */
export async function readLinkFacts(iface: string, sysfsRoot = '/sys/class/net', procWireless = '/proc/net/wireless'): Promise<LinkFacts> {
  const facts: LinkFacts = {};
  const dir = `${sysfsRoot}/${iface}`;
  const operstate = await readSmall(`${dir}/operstate`);
  if (operstate) facts.operstate = operstate;
  // speed: Mbit/s; EINVAL while the link is down, -1 or absent when the driver does not know (virtual, most Wi-Fi)
  const speed = Number(await readSmall(`${dir}/speed`));
  if (Number.isInteger(speed) && speed > 0) facts.speedMbps = speed;
  if ((await exists(`${dir}/wireless`)) || (await exists(`${dir}/phy80211`))) {
    const signal = parseProcNetWireless((await readSmall(procWireless)) ?? '').get(iface);
    if (signal !== undefined) facts.wifiSignalDbm = signal;
  }
  const carrier = await readCarrier(iface, sysfsRoot);
  if (carrier !== undefined) facts.carrier = carrier;
  else if (facts.operstate === 'down') facts.carrier = false;
  return facts;
}

/** Weakest and strongest signal level taken as dBm; other values are drivers' relative scales (ignored). */
const DBM_MIN = -120;
const DBM_MAX = 0;

/**
 * Signal level (dBm) per interface from /proc/net/wireless ("wlan0: 0000   70.  -40.  -256 ..."): the level column,
 * kept only where it reads as dBm (drivers that report a relative 0-100 scale, or 0 while not associated, are left out).
 */
export function parseProcNetWireless(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:\s]+):\s*\S+\s+(\S+)\s+(\S+)/.exec(line);
    if (!m) continue;
    const level = Number.parseFloat(m[3] as string);
    if (Number.isFinite(level) && level >= DBM_MIN && level < DBM_MAX) out.set(m[1] as string, level);
  }
  return out;
}

/** A small kernel file's trimmed text; undefined when it cannot be read (absent, or EINVAL for a down link's speed). */
async function readSmall(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Carrier from sysfs (one small file: cheap enough for every light round); undefined when unreadable. */
export async function readCarrier(iface: string, sysfsRoot = '/sys/class/net'): Promise<boolean | undefined> {
  const carrier = await readSmall(`${sysfsRoot}/${iface}/carrier`);
  if (carrier !== undefined) return carrier === '1';
  // interface administratively down or gone: reading carrier fails with EINVAL/ENOENT
  return (await exists(`${sysfsRoot}/${iface}`)) ? false : undefined;
}
