/** Edge-site lab network: lws-edge ↔ lws-gw1 (primary) / lws-gw2 (backup, metered) ↔ lws-inet, impairments and gateway byte counters. */
import { execFileSync } from 'node:child_process';
import { removeNamespaces } from './netns.ts';

/** Namespace names: the `lws-` prefix is this lab's own, so it never collides with the trust (lwt-) or route (lwr-) labs. */
export const NS = { edge: 'lws-edge', gw1: 'lws-gw1', gw2: 'lws-gw2', inet: 'lws-inet' } as const;
export type Gw = 'gw1' | 'gw2';
/** Far-side service addresses on lws-inet's loopback: probe server, VictoriaMetrics, and the API server of the "remote cluster" variant. */
export const PROBE_IP = '10.205.99.1';
export const PROBE_PORT = 9781;
export const VM_IP = '10.205.99.2';
export const VM_PORT = 8428;
export const REMOTE_API_IP = '10.205.99.3';
export const REMOTE_API_PORT = 6443;
/** Uplink addressing: edge side .2, gateway .1 on 10.205.<n>.0/24. */
export const GW_ADDR: Record<Gw, { n: 1 | 2; edgeIf: string; edgeIp: string; gwIp: string }> = {
  gw1: { n: 1, edgeIf: 'e1', edgeIp: '10.205.1.2', gwIp: '10.205.1.1' },
  gw2: { n: 2, edgeIf: 'e2', edgeIp: '10.205.2.2', gwIp: '10.205.2.1' },
};
/** Every wait for a command is bounded; under CPU burners `ip netns exec` takes up to a few hundred ms. */
const CMD_TIMEOUT_MS = 20_000;

export function sh(cmd: string, args: readonly string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' }, timeout: CMD_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] });
}
export const inNs = (n: string, cmd: string, ...args: string[]): string => sh('ip', ['netns', 'exec', n, cmd, ...args]);
const quiet = (f: () => unknown): void => {
  try {
    f();
  } catch {
    /* not there */
  }
};

/** Kills what still runs inside the lab namespaces (only processes the lab started live there), then deletes them. */
export function removeSiteNet(): void {
  removeNamespaces(Object.values(NS));
}

/** Builds the four namespaces with the site's pre-linkward default route via gw1. */
export function createSiteNet(): void {
  removeSiteNet();
  for (const n of Object.values(NS)) sh('ip', ['netns', 'add', n]);
  const veth = (a: string, an: string, b: string, bn: string): void =>
    void sh('ip', ['-n', a, 'link', 'add', an, 'type', 'veth', 'peer', 'name', bn, 'netns', b]);
  veth(NS.edge, 'e1', NS.gw1, 'g1a');
  veth(NS.edge, 'e2', NS.gw2, 'g2a');
  veth(NS.gw1, 'g1b', NS.inet, 'i1');
  veth(NS.gw2, 'g2b', NS.inet, 'i2');
  const addr = (n: string, dev: string, cidr: string): void => {
    sh('ip', ['-n', n, 'addr', 'add', cidr, 'dev', dev]);
    sh('ip', ['-n', n, 'link', 'set', dev, 'up']);
  };
  for (const n of Object.values(NS)) sh('ip', ['-n', n, 'link', 'set', 'lo', 'up']);
  addr(NS.edge, 'e1', '10.205.1.2/24');
  addr(NS.edge, 'e2', '10.205.2.2/24');
  addr(NS.gw1, 'g1a', '10.205.1.1/24');
  addr(NS.gw1, 'g1b', '10.205.11.1/24');
  addr(NS.gw2, 'g2a', '10.205.2.1/24');
  addr(NS.gw2, 'g2b', '10.205.12.1/24');
  addr(NS.inet, 'i1', '10.205.11.2/24');
  addr(NS.inet, 'i2', '10.205.12.2/24');
  for (const ip of [PROBE_IP, VM_IP, REMOTE_API_IP]) sh('ip', ['-n', NS.inet, 'addr', 'add', `${ip}/32`, 'dev', 'lo']);
  sh('ip', ['-n', NS.inet, 'route', 'add', '10.205.1.0/24', 'via', '10.205.11.1']);
  sh('ip', ['-n', NS.inet, 'route', 'add', '10.205.2.0/24', 'via', '10.205.12.1']);
  sh('ip', ['-n', NS.gw1, 'route', 'add', '10.205.99.0/24', 'via', '10.205.11.2']);
  sh('ip', ['-n', NS.gw2, 'route', 'add', '10.205.99.0/24', 'via', '10.205.12.2']);
  for (const n of Object.values(NS)) inNs(n, 'sysctl', '-q', '-w', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0');
  for (const gw of [NS.gw1, NS.gw2]) {
    inNs(gw, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1');
    // Two chains: `cut` holds impairments (flushed by restore), `count` only counts (bytes to each far-side service).
    inNs(gw, 'nft', 'add table inet lws; add chain inet lws cut { type filter hook forward priority 0; policy accept; }');
    inNs(
      gw,
      'nft',
      `add chain inet lws count { type filter hook forward priority 10; policy accept; }; add rule inet lws count ip daddr ${VM_IP} counter; add rule inet lws count ip daddr ${PROBE_IP} counter; add rule inet lws count ip saddr ${PROBE_IP} counter`,
    );
  }
  sh('ip', ['-n', NS.edge, 'route', 'add', 'default', 'via', GW_ADDR.gw1.gwIp, 'dev', 'e1', 'metric', '100', 'proto', 'static']);
}

const gwNs = (g: Gw): string => NS[g];

/** tbf on both directions of a gateway (towards edge and towards inet); null removes it. */
export function shape(g: Gw, mbit: number | null): void {
  const n = GW_ADDR[g].n;
  for (const dev of [`g${n}a`, `g${n}b`]) {
    if (mbit === null) quiet(() => inNs(gwNs(g), 'tc', 'qdisc', 'del', 'dev', dev, 'root'));
    // burst ≥ rate/HZ and ≥ 10 kB; latency 50 ms: a shaped line with a small queue (as the trust lab).
    else
      inNs(
        gwNs(g),
        'tc',
        'qdisc',
        'replace',
        'dev',
        dev,
        'root',
        'tbf',
        'rate',
        `${mbit}mbit`,
        'burst',
        String(Math.max(10_000, Math.round(((mbit * 1e6) / 8) * 0.004))),
        'latency',
        '50ms',
      );
  }
}

/** The far side goes dead with the carrier up: the gateway drops everything it would forward. */
export function cut(g: Gw): void {
  inNs(gwNs(g), 'nft', 'insert rule inet lws cut drop');
}
/** Ends a cut: the gateway forwards everything again (shaping, if any, stays). */
export function uncut(g: Gw): void {
  inNs(gwNs(g), 'nft', 'flush chain inet lws cut');
}

/** Bytes a gateway forwarded to VictoriaMetrics, and probe bytes to + from the probe server. */
export function gwBytes(g: Gw): { toVm: number; probe: number } {
  const out = inNs(gwNs(g), 'nft', 'list chain inet lws count');
  const get = (re: RegExp): number => Number(re.exec(out)?.[1] ?? 0);
  return {
    toVm: get(new RegExp(`daddr ${VM_IP.replaceAll('.', '\\.')} counter packets \\d+ bytes (\\d+)`)),
    probe:
      get(new RegExp(`daddr ${PROBE_IP.replaceAll('.', '\\.')} counter packets \\d+ bytes (\\d+)`)) +
      get(new RegExp(`saddr ${PROBE_IP.replaceAll('.', '\\.')} counter packets \\d+ bytes (\\d+)`)),
  };
}

/** linkward's default route in lws-edge (`ip route show default` lines), as an operator reads it. */
export function edgeDefaults(): string {
  return sh('ip', ['-n', NS.edge, 'route', 'show', 'default']).trim();
}
/** Which gateway the edge's preferred default route uses right now (lowest metric first, as the kernel picks). */
export function edgeVia(): Gw | null {
  const first =
    edgeDefaults()
      .split('\n')
      .map((l) => ({ l, metric: Number(/metric (\d+)/.exec(l)?.[1] ?? 0) }))
      .sort((a, b) => a.metric - b.metric)[0]?.l ?? '';
  if (first.includes(`via ${GW_ADDR.gw1.gwIp} `)) return 'gw1';
  if (first.includes(`via ${GW_ADDR.gw2.gwIp} `)) return 'gw2';
  return null;
}

/** Clears what a previous agent left in edge (its proto-77 routes, tables, rules) so each run starts as the site did. */
export function resetEdgeRoutes(): void {
  for (let i = 0; i < 4; i++) quiet(() => sh('ip', ['-n', NS.edge, 'route', 'del', 'default', 'proto', '77']));
  for (const n of [7100, 7101]) {
    quiet(() => sh('ip', ['-n', NS.edge, 'route', 'flush', 'table', String(n)]));
    quiet(() => sh('ip', ['-n', NS.edge, 'rule', 'del', 'priority', String(n)]));
  }
  sh('ip', ['-n', NS.edge, 'route', 'replace', 'default', 'via', GW_ADDR.gw1.gwIp, 'dev', 'e1', 'metric', '100', 'proto', 'static']);
}
