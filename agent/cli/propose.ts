/** First-run proposal (pure): uplinks from the kernel's default routes and links, default probe targets, as commented YAML. */
import { famOf, type KernelLink, type KernelRoute } from '../route/ip-state.ts';
import type { InterfaceInfo } from './interfaces.ts';

/**
 * Light-probe targets proposed when the operator has none: TCP connects to three independent anycast resolvers on
 * 443 (open on almost every network that allows HTTPS; a quorum of 2 of 3 survives one provider's outage).
 */
export const PROPOSED_TARGETS = ['1.1.1.1:443', '9.9.9.9:443', '8.8.8.8:443'] as const;
/** Interfaces that are never an uplink: loopback, container and cluster plumbing (k3s flannel/cni, docker, veth). */
const NOT_AN_UPLINK = /^(lo|docker\d*|cni\d*|flannel.*|cali.*|veth.*|kube-.*|tunl\d*|vxlan.*|br-.*|virbr\d*)$/;
/** Name patterns that are metered links (cellular modems): stricter probe budget. */
const METERED = /^(wwan|wwp|usb|rmnet|ppp)\d*/;
/** Priority of the first uplink and the step between uplinks (room to insert one later). */
const PRIORITY_BASE = 10;
const PRIORITY_STEP = 10;

export interface ProposedUplink {
  name: string;
  interface: string;
  priority: number;
  metered: boolean;
  gateway?: string;
  /** `auto` when the interface carries an IPv6 default route (router advertisement, DHCPv6, static). */
  gateway6?: 'auto';
  /** Why it was proposed (for the comment in the file). */
  why: string;
}

export interface Proposal {
  uplinks: ProposedUplink[];
  /** Things the operator must still decide, one sentence each. */
  todo: string[];
}

/** Uplink name from an interface name: lowercase letters, digits and dashes, at most 32. */
function uplinkName(ifname: string, taken: Set<string>): string {
  const base =
    ifname
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 32) || 'uplink';
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base.slice(0, 29)}-${i}`;
  taken.add(name);
  return name;
}

/**
 * One uplink per interface that carries a default route (main table), best metric first; then interfaces that are up
 * with an IPv4 address but no default route (a backup modem waiting) at the end, marked as such. `info`
 * (systeminformation, when it could be read) adds Wi-Fi, link speed and "virtual device" to the reasons; virtual devices
 * stay proposed, since PPP modems, VLANs and bonds are real uplinks that the kernel lists as virtual.
 */
export function proposeUplinks(routes: readonly KernelRoute[], links: readonly KernelLink[], info: ReadonlyMap<string, InterfaceInfo> = new Map()): Proposal {
  /** ", Wi-Fi, 1000 Mbit/s": what systeminformation adds to the reason, when it knows. */
  const about = (dev: string): string => {
    const i = info.get(dev);
    if (!i) return '';
    return `${i.wireless ? ', Wi-Fi' : ''}${i.speedMbps !== undefined ? `, link ${i.speedMbps} Mbit/s` : ''}${i.virtual ? ', a virtual device (PPP, VLAN and bond uplinks are; a VPN tunnel is not an uplink: then delete it)' : ''}`;
  };
  const defaults = routes
    .filter((r) => famOf(r) === 4 && r.dst === 'default' && r.table === 'main' && r.dev !== undefined && !NOT_AN_UPLINK.test(r.dev))
    .sort((a, b) => a.metric - b.metric);
  /** IPv6 left on a failed uplink breaks whatever prefers IPv6 (IPv6-first cellular carriers): switch it too. */
  const v6 = (dev: string): Pick<ProposedUplink, 'gateway6'> & { why6: string } => {
    const r = routes.find((x) => famOf(x) === 6 && x.dst === 'default' && x.table === 'main' && x.dev === dev && x.gateway);
    return r ? { gateway6: 'auto', why6: `; IPv6 default via ${r.gateway} (${r.protocol})` } : { why6: '' };
  };
  const taken = new Set<string>();
  const seen = new Set<string>();
  const uplinks: ProposedUplink[] = [];
  for (const r of defaults) {
    const dev = r.dev as string;
    if (seen.has(dev)) continue;
    seen.add(dev);
    const { why6, ...six } = v6(dev);
    uplinks.push({
      name: uplinkName(dev, taken),
      interface: dev,
      priority: PRIORITY_BASE + PRIORITY_STEP * uplinks.length,
      metered: METERED.test(dev),
      ...(r.gateway ? { gateway: r.gateway } : {}),
      ...six,
      why: `default route${r.gateway ? ` via ${r.gateway}` : ''} (metric ${r.metric}, ${r.protocol})${why6}${about(dev)}`,
    });
  }
  for (const l of links) {
    if (seen.has(l.name) || NOT_AN_UPLINK.test(l.name) || !l.up || l.addrs.length === 0) continue;
    seen.add(l.name);
    const { why6, ...six } = v6(l.name);
    uplinks.push({
      name: uplinkName(l.name, taken),
      interface: l.name,
      priority: PRIORITY_BASE + PRIORITY_STEP * uplinks.length,
      metered: METERED.test(l.name),
      ...six,
      why: `up with ${l.addrs.join(', ')} but no IPv4 default route${why6}${about(l.name)}: a backup? set its gateway, or delete it if it is a LAN`,
    });
  }
  const todo: string[] = [];
  if (uplinks.length === 0) todo.push('no uplink found (no default route and no interface with an address): add uplinks.list by hand');
  if (uplinks.length === 1) todo.push('one uplink found: failover needs a second (a modem that is down now can be added by hand)');
  todo.push('speed tests need a server you run (`linkward probe-server` in your datacenter): set probes.throughput.url');
  return { uplinks, todo };
}

const q = (s: string): string => JSON.stringify(s);

/** The config file text: short, commented, valid as written (checked by the caller with `config validate`'s rules). */
export function renderProposal(p: Proposal, generatedAt: string, opts: { kubernetes: boolean }): string {
  const lines = [
    `# linkward configuration written by \`linkward init\` on ${generatedAt} from this machine's routing table.`,
    '# Review it, then: linkward config validate FILE. Every key and its default: linkward config defaults.',
    '',
  ];
  for (const t of p.todo) lines.push(`# TODO: ${t}`);
  lines.push('', 'uplinks:', '  # Lower priority is preferred; failover moves the default route to the best healthy uplink.');
  if (p.uplinks.length === 0) lines.push('  list: []');
  else lines.push('  list:');
  for (const u of p.uplinks) {
    lines.push(`    # ${u.interface}: ${u.why}`);
    // no gateway key: linkward reads it from the routing table, so a DHCP gateway that changes keeps working
    lines.push(`    - name: ${u.name}`, `      interface: ${q(u.interface)}`, `      priority: ${u.priority}`);
    if (u.gateway6)
      lines.push('      # IPv6 default route on it: switch IPv6 with IPv4, the router learned from the routing table', `      gateway6: ${u.gateway6}`);
    if (u.metered) lines.push('      # cellular-looking interface: smaller daily probe budget (10 MB), only high-priority telemetry', '      metered: true');
  }
  lines.push(
    '',
    'probes:',
    '  # Light probes (latency, loss): TCP connects to three independent anycast resolvers; 2 of 3 must answer.',
    '  # Replace them with your own datacenter (linkward://HOST:9781 of a `linkward probe-server`) where you can.',
    `  targets: [${PROPOSED_TARGETS.map(q).join(', ')}]`,
    '  # Scheduled speed tests need a server you run: uncomment and set it.',
    '  # throughput: { url: "http://probe.example.com:9781/" }',
    '',
    'kubernetes:',
    opts.kubernetes
      ? '  # k3s found (/etc/rancher/k3s/k3s.yaml): linkward labels, taints (and, if configured, cordons) this Node from the link state.'
      : '  # No k3s found on this machine: node decorations off. Set true on a k3s node.',
    `  enabled: ${opts.kubernetes}`,
    '',
  );
  return lines.join('\n');
}
