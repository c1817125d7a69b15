/** Pod side of the route lab: lwr-pod behind lwr-edge (veth, forwarding, nft SNAT or masquerade on both uplinks), a UDP echo in lwr-inet, a 10 Hz UDP client in the pod. */
import { spawn, type ChildProcess } from 'node:child_process';
import { onJsonLines } from './json-lines.ts';
import { NS, TARGET, ip, nsExec } from './route-lab.ts';

/** Pod address (like a k3s pod CIDR address) and the edge's side of the pod veth (the pod's gateway). */
export const POD_ADDR = '10.201.50.2';
export const POD_GW = '10.201.50.1';
/** UDP echo port in lwr-inet (next to the TCP target's 7000/7001). */
export const UDP_PORT = 7200;
/** The pod's flow sends this often: like a game, VoIP or telemetry stream that keeps its conntrack entry alive. */
export const UDP_SEND_EVERY_MS = 100;

/**
 * How lwr-edge NATs pod traffic leaving e1/e2. `masquerade` is what k3s/flannel/kube-proxy install; the kernel itself drops a
 * masqueraded entry when its packets start leaving another interface (nf_nat_oif_changed). `snat` (`snat to` each uplink's
 * address, as static-address setups do) keeps the old binding until the entry is deleted: that is what the flush is for.
 */
export type PodNat = 'masquerade' | 'snat';

/** Adds lwr-pod with a default route via lwr-edge, which forwards pod traffic and NATs it out of e1 and e2. */
export function addPod(nat: PodNat): void {
  ip('netns', 'add', NS.pod);
  ip('-n', NS.pod, 'link', 'set', 'lo', 'up');
  ip('-n', NS.edge, 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS.pod);
  ip('-n', NS.edge, 'addr', 'add', `${POD_GW}/24`, 'dev', 'p0');
  ip('-n', NS.edge, 'link', 'set', 'p0', 'up');
  ip('-n', NS.pod, 'addr', 'add', `${POD_ADDR}/24`, 'dev', 'eth0');
  ip('-n', NS.pod, 'link', 'set', 'eth0', 'up');
  ip('-n', NS.pod, 'route', 'add', 'default', 'via', POD_GW);
  nsExec(NS.edge, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1');
  nsExec(NS.edge, 'nft', 'add', 'table', 'ip', 'lwrnat');
  nsExec(NS.edge, 'nft', 'add', 'chain', 'ip', 'lwrnat', 'post', '{ type nat hook postrouting priority srcnat ; }');
  for (const [dev, addr] of [
    ['e1', '10.201.1.2'],
    ['e2', '10.201.2.2'],
  ] as const) {
    nsExec(NS.edge, 'nft', 'add', 'rule', 'ip', 'lwrnat', 'post', 'oifname', `"${dev}"`, ...(nat === 'snat' ? ['snat', 'to', addr] : ['masquerade']));
  }
}

/** Starts a UDP echo on TARGET:UDP_PORT in lwr-inet; resolves once it listens (or rejects after 5 s). */
export async function startUdpEcho(): Promise<ChildProcess> {
  const p = spawn(
    'ip',
    [
      'netns',
      'exec',
      NS.inet,
      process.execPath,
      '-e',
      `const s = require('node:dgram').createSocket('udp4'); s.on('message', (m, r) => s.send(m, r.port, r.address)); s.bind(${UDP_PORT}, '${TARGET}', () => console.log('ready'))`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const ok = await new Promise<boolean>((r) => {
    p.stdout!.once('data', () => r(true));
    setTimeout(() => r(false), 5000);
  });
  if (!ok) throw new Error('UDP echo did not start within 5 s');
  return p;
}

export interface PodFlow {
  proc: ChildProcess;
  replies: { atMs: number; seq: number }[];
}

/** Starts the pod's flow: one socket (one conntrack entry) sending a sequence number every UDP_SEND_EVERY_MS; records each echo. */
export function startPodFlow(): PodFlow {
  const proc = spawn(
    'ip',
    [
      'netns',
      'exec',
      NS.pod,
      process.execPath,
      '-e',
      `const s = require('node:dgram').createSocket('udp4'); let seq = 0; s.on('message', (m) => console.log(JSON.stringify({ atMs: Date.now(), seq: Number(m.toString()) }))); s.bind(0, () => setInterval(() => s.send(String(++seq), ${UDP_PORT}, '${TARGET}'), ${UDP_SEND_EVERY_MS}))`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const replies: PodFlow['replies'] = [];
  onJsonLines(proc.stdout, (r) => replies.push(r as unknown as { atMs: number; seq: number }));
  return { proc, replies };
}

/** Conntrack entries of the pod's UDP flow in lwr-edge, as `conntrack -L` prints them (always inside the namespace). */
export function podFlowEntries(): string {
  return nsExec(NS.edge, 'conntrack', '-L', '-p', 'udp', '--dport', String(UDP_PORT)).trim();
}

/** The address the pod's flow is NATed to in lwr-edge (reply direction's dst), or null when there is no entry. */
export function podFlowNat(): string | null {
  const m = new RegExp(`src=${POD_ADDR.replace(/\./g, '\\.')} .*?src=\\S+ dst=(\\S+)`).exec(podFlowEntries());
  return m?.[1] ?? null;
}
