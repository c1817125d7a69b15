/** Confirm step of commit-confirm: reach a TCP target through the (new) default route, per family it moved, before a deadline. */
import { connect, isIP } from 'node:net';
import type { Clock } from '../base/clock.ts';
import { splitHostPort, unmapIpv4 } from '../base/host-port.ts';
import type { Family } from './ip-state.ts';

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
      return { host: unmapIpv4(u.hostname.replace(/^\[|\]$/g, '')), port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)) };
    } catch {
      return null;
    }
  }
  if (/^(udp|icmp):\/\//i.test(text)) return null;
  const hp = splitHostPort(text.replace(/^(tcp|linkward):\/\//i, ''));
  return hp === null ? null : { ...hp, host: unmapIpv4(hp.host) };
}

/** Family of a target given as an address literal; null for a host name (the resolver picks its family). */
export function endpointFamily(ep: Endpoint): Family | null {
  const v = isIP(ep.host);
  return v === 4 || v === 6 ? v : null;
}

/** One family's share of a confirm: reached once any of its targets connects. */
interface ConfirmGroup {
  family: Family | null;
  targets: Endpoint[];
}

/**
 * The groups a switch that moved `families` must reach, one target each. A moved family with address targets needs
 * one of them: a dual-stack switch whose IPv6 is broken on the new uplink is not confirmed by IPv4 alone. Targets of a
 * family the switch left alone say nothing about the new path and are skipped. Host names (the resolver picks their
 * family) form one more group when some moved family has no address target, so that family is not left unchecked;
 * with no address target at all, any name reached confirms, as before per-family confirms.
 */
export function confirmGroups(targets: readonly Endpoint[], families: readonly Family[]): ConfirmGroup[] {
  const groups: ConfirmGroup[] = families
    .map((family) => ({ family, targets: targets.filter((t) => endpointFamily(t) === family) }))
    .filter((g) => g.targets.length > 0);
  const names = targets.filter((t) => endpointFamily(t) === null);
  if (names.length > 0 && groups.length < families.length) groups.push({ family: null, targets: names });
  return groups;
}

const label = (ep: Endpoint): string => (endpointFamily(ep) === 6 ? `[${ep.host}]:${ep.port}` : `${ep.host}:${ep.port}`);
const famName = (f: Family | null): string => (f === null ? 'host names' : `IPv${f}`);

/**
 * Tries each group's targets in turn until one connects or `timeoutMs` (monotonic) has passed; the groups run side by
 * side, so one family's dead targets do not use up another's time. `families`: what the switch moved to the new
 * uplink (IPv4 only unless it is dual-stack). Confirmed when every group reached a target.
 */
export async function confirmReachable(
  targets: readonly Endpoint[],
  timeoutMs: number,
  clock: Clock,
  connector: Connector = tcpConnector,
  families: readonly Family[] = [4],
): Promise<ConfirmResult> {
  const start = clock.monoMs();
  const groups = confirmGroups(targets, families);
  if (groups.length === 0)
    return {
      ok: false,
      ms: 0,
      detail:
        targets.length === 0
          ? 'no confirm targets: set uplinks.policy.confirmTargets or per-uplink targets'
          : `no confirm target of a family this switch moved (${families.map(famName).join(', ')}): add one to uplinks.policy.confirmTargets`,
    };
  const left = (): number => timeoutMs - (clock.monoMs() - start);
  /** One group: the first target that answers (its label), or the last failure seen. */
  const tryGroup = async (g: ConfirmGroup): Promise<{ reached?: string; last: string }> => {
    let last = 'no attempt finished';
    for (let round = 0; round < 10_000 && left() > 0; round++) {
      for (const t of g.targets) {
        if (left() <= 0) return { last };
        if (await connector(t, Math.min(CONFIRM_ATTEMPT_TIMEOUT_MS, left()))) return { reached: label(t), last };
        last = `${label(t)} did not answer`;
      }
      if (left() > 0) await clock.sleep(Math.min(CONFIRM_RETRY_MS, left()));
    }
    return { last };
  };
  const results = await Promise.all(groups.map(tryGroup));
  const ms = clock.monoMs() - start;
  const named = (i: number): string => (groups.length > 1 ? ` (${famName(groups[i]!.family)})` : '');
  if (results.every((r) => r.reached !== undefined)) return { ok: true, ms, detail: results.map((r, i) => `${r.reached}${named(i)}`).join(', ') };
  const summary = results.map((r, i) => (r.reached !== undefined ? `${r.reached}${named(i)}` : `${famName(groups[i]!.family)}: ${r.last}`)).join('; ');
  const some = results.some((r) => r.reached !== undefined);
  return { ok: false, ms, detail: `${some ? 'not every family reached' : 'no target reached'} within ${Math.round(timeoutMs)} ms (${summary})` };
}
