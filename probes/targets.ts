/** Parses probe target strings (HOST:PORT, tcp://, udp://, icmp://, linkward://, http(s)://) into probe endpoints. */
import { LwError } from '../agent/base/errors.ts';
import { unmapIpv4 } from '../agent/base/host-port.ts';
import { ProbeErrorCode } from './errors.ts';

export type EndpointKind = 'tcp' | 'udp' | 'icmp';

/** One thing a light probe sends to; several endpoints can belong to one configured target. */
export interface ProbeEndpoint {
  kind: EndpointKind;
  host: string;
  /** Absent for icmp. */
  port?: number;
}

/** A configured target: quorum counts targets, a target is up when any of its endpoints answered. */
export interface ProbeTarget {
  /** The string as configured (stable id for storage and status). */
  id: string;
  endpoints: ProbeEndpoint[];
  /** Tried in the same round only when every primary endpoint failed (e.g. UDP filtered, TCP allowed). */
  fallback?: ProbeEndpoint[];
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'http:': 80, 'https:': 443 };

/** The host without brackets, an IPv4-mapped IPv6 literal as the IPv4 address it maps (probed as IPv4). */
function stripBrackets(host: string): string {
  return unmapIpv4(host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host);
}

function invalid(s: string, why: string): LwError {
  return new LwError(
    ProbeErrorCode.TARGET_INVALID,
    `probe target "${s}" ${why}; use HOST:PORT, tcp://, udp://, linkward://HOST:PORT, icmp://HOST or an http(s) URL`,
    { context: { target: s } },
  );
}

function portOf(s: string, raw: string): number {
  const p = Number(raw);
  if (!Number.isInteger(p) || p < 1 || p > 65535) throw invalid(s, 'has no valid port');
  return p;
}

/** Parses one target; `echoPort` adds a UDP echo endpoint to TCP/HTTP targets. */
export function parseTarget(s: string, echoPort?: number): ProbeTarget {
  const m = /^([a-z]+):\/\//.exec(s);
  if (!m) {
    const hp = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(s);
    if (!hp) throw invalid(s, 'is not HOST:PORT');
    const host = stripBrackets(hp[1] as string);
    const endpoints: ProbeEndpoint[] = [{ kind: 'tcp', host, port: portOf(s, hp[2] as string) }];
    if (echoPort !== undefined) endpoints.push({ kind: 'udp', host, port: echoPort });
    return { id: s, endpoints };
  }
  let url: URL;
  try {
    url = new URL(s);
  } catch (cause) {
    throw new LwError(ProbeErrorCode.TARGET_INVALID, `probe target "${s}" is not a valid URL`, { cause });
  }
  const host = stripBrackets(url.hostname);
  if (!host) throw invalid(s, 'has no host');
  switch (url.protocol) {
    case 'icmp:':
      return { id: s, endpoints: [{ kind: 'icmp', host }] };
    case 'tcp:':
    case 'udp:':
      return { id: s, endpoints: [{ kind: url.protocol === 'tcp:' ? 'tcp' : 'udp', host, port: portOf(s, url.port) }] };
    case 'linkward:': {
      const port = portOf(s, url.port);
      // UDP echo alone gives RTT, jitter and loss at ≈ 290 B per round; TCP connect only when UDP gets no answer
      return { id: s, endpoints: [{ kind: 'udp', host, port: echoPort ?? port }], fallback: [{ kind: 'tcp', host, port }] };
    }
    case 'http:':
    case 'https:': {
      const port = url.port ? portOf(s, url.port) : (DEFAULT_PORTS[url.protocol] as number);
      const endpoints: ProbeEndpoint[] = [{ kind: 'tcp', host, port }];
      if (echoPort !== undefined) endpoints.push({ kind: 'udp', host, port: echoPort });
      return { id: s, endpoints };
    }
    default:
      throw invalid(s, `has unsupported scheme ${url.protocol}`);
  }
}

/** Parses every target; reports all invalid ones at once. */
export function parseTargets(list: readonly string[], echoPort?: number): ProbeTarget[] {
  const out: ProbeTarget[] = [];
  const bad: string[] = [];
  for (const s of list) {
    try {
      out.push(parseTarget(s, echoPort));
    } catch {
      bad.push(s);
    }
  }
  if (bad.length > 0)
    throw new LwError(
      ProbeErrorCode.TARGET_INVALID,
      `invalid probe targets: ${bad.join(', ')}; use HOST:PORT or tcp:// udp:// linkward:// icmp:// http(s):// URLs`,
      { context: { targets: bad } },
    );
  return out;
}
