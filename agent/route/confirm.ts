/** Confirm step of commit-confirm: reach one TCP target through the (new) default route before a deadline. */
import { connect } from 'node:net';
import type { Clock } from '../base/clock.ts';
import { splitHostPort } from '../base/host-port.ts';

/** Each connect attempt gets at most this long, so several attempts fit in one confirm window. */
export const CONFIRM_ATTEMPT_TIMEOUT_MS = 1_000;
/** Pause between rounds of attempts (a fresh route may need an ARP/neighbour resolution first). */
export const CONFIRM_RETRY_MS = 200;

export interface Endpoint {
  host: string;
  port: number;
}

export interface ConfirmResult {
  ok: boolean;
  ms: number;
  /** Target that answered (ok) or the last error seen. */
  detail: string;
}

/** Opens a TCP connection and closes it; resolves true if it connected within `timeoutMs`. */
export type Connector = (ep: Endpoint, timeoutMs: number) => Promise<boolean>;

export const tcpConnector: Connector = (ep, timeoutMs) =>
  new Promise((resolve) => {
    const s = connect({ host: ep.host, port: ep.port, timeout: timeoutMs });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => done(true));
    s.once('timeout', () => done(false));
    s.once('error', () => done(false));
  });

/** Parses `host:port`, `[v6]:port`, `tcp://`/`linkward://host:port` or an http(s) URL into a TCP endpoint; null for udp/icmp targets. */
export function parseEndpoint(text: string): Endpoint | null {
  if (/^https?:\/\//.test(text)) {
    try {
      const u = new URL(text);
      return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)) };
    } catch {
      return null;
    }
  }
  if (/^(udp|icmp):\/\//i.test(text)) return null;
  return splitHostPort(text.replace(/^(tcp|linkward):\/\//i, ''));
}

/** Tries every target in turn until one connects or `timeoutMs` (monotonic) has passed. */
export async function confirmReachable(
  targets: readonly Endpoint[],
  timeoutMs: number,
  clock: Clock,
  connector: Connector = tcpConnector,
): Promise<ConfirmResult> {
  const start = clock.monoMs();
  if (targets.length === 0) return { ok: false, ms: 0, detail: 'no confirm targets: set uplinks.policy.confirmTargets or per-uplink targets' };
  let last = 'no attempt finished';
  for (let round = 0; round < 10_000; round++) {
    for (const t of targets) {
      const left = timeoutMs - (clock.monoMs() - start);
      if (left <= 0) return { ok: false, ms: clock.monoMs() - start, detail: `no target reached within ${Math.round(timeoutMs)} ms (${last})` };
      if (await connector(t, Math.min(CONFIRM_ATTEMPT_TIMEOUT_MS, left))) return { ok: true, ms: clock.monoMs() - start, detail: `${t.host}:${t.port}` };
      last = `${t.host}:${t.port} did not answer`;
    }
    const left = timeoutMs - (clock.monoMs() - start);
    if (left <= 0) break;
    await clock.sleep(Math.min(CONFIRM_RETRY_MS, left));
  }
  return { ok: false, ms: clock.monoMs() - start, detail: `no target reached within ${Math.round(timeoutMs)} ms (${last})` };
}
