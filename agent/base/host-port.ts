/** Splits `HOST:PORT` / `[v6]:PORT` text into parts (one parser for listen addresses and TCP targets). */

/** Host (brackets removed) and port, or null when `text` is not HOST:PORT with a port in 0–65535. */
export function splitHostPort(text: string): { host: string; port: number } | null {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(text);
  if (!m || m[1] === undefined || m[2] === undefined) return null;
  const port = Number(m[2]);
  return port > 65_535 ? null : { host: m[1].replace(/^\[|\]$/g, ''), port };
}
