/** Splits `HOST:PORT` / `[v6]:PORT` text into parts (one parser for listen addresses and TCP targets); unmaps IPv4-mapped target hosts. */

/** Host (brackets removed) and port, or null when `text` is not HOST:PORT with a port in 0–65535. */
export function splitHostPort(text: string): { host: string; port: number } | null {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(text);
  if (!m || m[1] === undefined || m[2] === undefined) return null;
  const port = Number(m[2]);
  return port > 65_535 ? null : { host: m[1].replace(/^\[|\]$/g, ''), port };
}

/**
 * A target's host as it is reached: an IPv4-mapped IPv6 literal (`::ffff:10.0.0.1`, in any spelling) becomes the
 * IPv4 address it maps, so a probe binds the uplink's IPv4 source and a confirm counts it as IPv4; anything else is
 * returned as it is. Not for listen addresses, where the socket family is the caller's choice, nor for throughput
 * URLs, which the HTTP client connects to as written (an IPv4 literal there says what is meant).
 */
export function unmapIpv4(host: string): string {
  if (!host.includes(':') || !/^[0-9a-fA-F:.]+$/.test(host)) return host;
  let canonical: string;
  try {
    canonical = new URL(`http://[${host}]/`).hostname; // WHATWG compresses: [::ffff:a00:1]
  } catch {
    return host;
  }
  const m = /^\[::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})\]$/.exec(canonical);
  if (!m) return host;
  const hi = Number.parseInt(m[1]!, 16);
  const lo = Number.parseInt(m[2]!, 16);
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}
