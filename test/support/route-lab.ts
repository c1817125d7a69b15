/** Builds and removes the route lab: lwr-edge ↔ lwr-gw1/lwr-gw2 ↔ lwr-inet (veth pairs), a TCP target in lwr-inet, the lab agent. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onJsonLines } from './json-lines.ts';
import { removeNamespaces } from './netns.ts';

/** `pod` exists only when a test adds it (route-lab-pod.ts); removeLab removes it too. */
export const NS = { edge: 'lwr-edge', gw1: 'lwr-gw1', gw2: 'lwr-gw2', inet: 'lwr-inet', pod: 'lwr-pod' } as const;
const CORE_NS = [NS.edge, NS.gw1, NS.gw2, NS.inet];
/** Probe target (reachable via both gateways) and confirm target (a "k3s API" that gw2 can be told to drop). */
export const TARGET = '10.201.99.1';
export const CONFIRM = '10.201.99.2';
export const PORT = 7000;
/** IPv6 probe target in lwr-inet (ULA, inside the lab namespaces only); gw1/gw2 links are fd00:201:1::/64 and fd00:201:2::/64. */
export const TARGET6 = 'fd00:201:99::1';
/** The lab's TCP target prints a line once listening; it takes well under a second. */
const TARGET_START_MS = 5_000;

export function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' }, timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
}
export function nsExec(ns: string, cmd: string, ...args: string[]): string {
  return execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], {
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C' },
    timeout: 10_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Kills what still runs inside the lab namespaces (only processes the lab started live there), then deletes them. */
export function removeLab(): void {
  removeNamespaces(Object.values(NS));
}

/** Creates the namespaces; returns the TCP target server process (running in lwr-inet). */
export function createLab(): ChildProcess {
  removeLab();
  for (const ns of CORE_NS) ip('netns', 'add', ns);
  const veth = (a: string, an: string, b: string, bn: string): void => {
    ip('-n', a, 'link', 'add', an, 'type', 'veth', 'peer', 'name', bn, 'netns', b);
  };
  veth(NS.edge, 'e1', NS.gw1, 'g1a');
  veth(NS.edge, 'e2', NS.gw2, 'g2a');
  veth(NS.gw1, 'g1b', NS.inet, 'i1');
  veth(NS.gw2, 'g2b', NS.inet, 'i2');
  // Every lab link is dual-stack: IPv4 10.201.N.x/24 and the ULA fd00:201:N::x/64 (nodad: usable at once).
  const addr = (ns: string, dev: string, cidr: string): void => {
    ip('-n', ns, 'addr', 'add', cidr, 'dev', dev);
    const [a, b, n, h] = cidr.split('/')[0]!.split('.');
    if (a === '10' && b === '201') ip('-n', ns, 'addr', 'add', `fd00:201:${n}::${h}/64`, 'dev', dev, 'nodad');
    ip('-n', ns, 'link', 'set', dev, 'up');
  };
  for (const ns of CORE_NS) ip('-n', ns, 'link', 'set', 'lo', 'up');
  addr(NS.edge, 'e1', '10.201.1.2/24');
  addr(NS.edge, 'e2', '10.201.2.2/24');
  addr(NS.gw1, 'g1a', '10.201.1.1/24');
  addr(NS.gw1, 'g1b', '10.201.11.1/24');
  addr(NS.gw2, 'g2a', '10.201.2.1/24');
  addr(NS.gw2, 'g2b', '10.201.12.1/24');
  addr(NS.inet, 'i1', '10.201.11.2/24');
  addr(NS.inet, 'i2', '10.201.12.2/24');
  ip('-n', NS.inet, 'addr', 'add', `${TARGET}/32`, 'dev', 'lo');
  ip('-n', NS.inet, 'addr', 'add', `${CONFIRM}/32`, 'dev', 'lo');
  ip('-n', NS.inet, 'route', 'add', '10.201.1.0/24', 'via', '10.201.11.1');
  ip('-n', NS.inet, 'route', 'add', '10.201.2.0/24', 'via', '10.201.12.1');
  ip('-n', NS.gw1, 'route', 'add', '10.201.99.0/24', 'via', '10.201.11.2');
  ip('-n', NS.gw2, 'route', 'add', '10.201.99.0/24', 'via', '10.201.12.2');
  ip('-n', NS.inet, 'addr', 'add', `${TARGET6}/128`, 'dev', 'lo');
  ip('-n', NS.inet, '-6', 'route', 'add', 'fd00:201:1::/64', 'via', 'fd00:201:11::1');
  ip('-n', NS.inet, '-6', 'route', 'add', 'fd00:201:2::/64', 'via', 'fd00:201:12::1');
  ip('-n', NS.gw1, '-6', 'route', 'add', 'fd00:201:99::/64', 'via', 'fd00:201:11::2');
  ip('-n', NS.gw2, '-6', 'route', 'add', 'fd00:201:99::/64', 'via', 'fd00:201:12::2');
  for (const gw of [NS.gw1, NS.gw2]) {
    nsExec(gw, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1');
    nsExec(gw, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.forwarding=1');
    // Counters and impairments live in one table per gateway.
    nsExec(gw, 'nft', 'add', 'table', 'inet', 'lwr');
    nsExec(gw, 'nft', 'add', 'chain', 'inet', 'lwr', 'lwrfwd', '{ type filter hook forward priority 0 ; }');
    nsExec(gw, 'nft', 'add', 'rule', 'inet', 'lwr', 'lwrfwd', 'counter');
  }
  ip('-n', NS.edge, 'route', 'add', 'default', 'via', '10.201.1.1', 'dev', 'e1', 'metric', '100', 'proto', 'static');
  ip('-n', NS.edge, '-6', 'route', 'add', 'default', 'via', 'fd00:201:1::1', 'dev', 'e1', 'metric', '100', 'proto', 'static');
  const server = spawn(
    'ip',
    [
      'netns',
      'exec',
      NS.inet,
      process.execPath,
      '-e',
      `const net = require('node:net'); const blob = Buffer.alloc(65536, 120); net.createServer((s) => { s.on('error', () => {}); s.end(); }).listen(${PORT}, '::', () => net.createServer((s) => { s.on('error', () => {}); s.end(blob); }).listen(${PORT + 1}, '::', () => console.log('ready')))`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return server;
}

/** Packets forwarded by a gateway so far (its nft counter). */
export function forwarded(gw: string): number {
  const m = /counter packets (\d+)/.exec(nsExec(gw, 'nft', 'list', 'chain', 'inet', 'lwr', 'lwrfwd'));
  return Number(m?.[1] ?? NaN);
}

/** Drops everything a gateway would forward (hard loss), or only traffic to one address (IPv4 or IPv6). */
export function blackhole(gw: string, daddr?: string): void {
  const match = daddr ? [daddr.includes(':') ? 'ip6' : 'ip', 'daddr', daddr] : [];
  nsExec(gw, 'nft', 'insert', 'rule', 'inet', 'lwr', 'lwrfwd', ...match, 'drop');
}
/** Restores a gateway: no drops, no shaping. */
export function restore(gw: string): void {
  nsExec(gw, 'nft', 'flush', 'chain', 'inet', 'lwr', 'lwrfwd');
  nsExec(gw, 'nft', 'add', 'rule', 'inet', 'lwr', 'lwrfwd', 'counter');
  try {
    nsExec(gw, 'tc', 'qdisc', 'del', 'dev', gw === NS.gw1 ? 'g1a' : 'g2a', 'root');
  } catch {
    /* no qdisc */
  }
}

/** Shapes what a gateway sends towards the edge (download direction) with tbf. */
export function throttle(gw: string, rate = '1mbit'): void {
  nsExec(gw, 'tc', 'qdisc', 'replace', 'dev', gw === NS.gw1 ? 'g1a' : 'g2a', 'root', 'tbf', 'rate', rate, 'burst', '16kb', 'latency', '400ms');
}

/** The default route linkward manages in lwr-edge (proto 77), or '' when none. */
export function edgeDefault(): string {
  return ip('-n', NS.edge, 'route', 'show', 'default', 'proto', '77').trim();
}
/** linkward's IPv6 default route in lwr-edge (proto 77), or '' when none. */
export function edgeDefault6(): string {
  return ip('-n', NS.edge, '-6', 'route', 'show', 'default', 'proto', '77').trim();
}
/** Every default route of lwr-edge's main table in a family, as `ip route` prints them. */
export function edgeDefaults(family: 4 | 6 = 4): string {
  return ip('-n', NS.edge, `-${family}`, 'route', 'show', 'default').trim();
}

const AGENT = new URL('./route-lab-agent.ts', import.meta.url).pathname;

export interface LabEvent {
  event: string;
  uplink?: string;
  atMs: number;
}
export interface LabAgent {
  agent: ChildProcess;
  events: LabEvent[];
  logs: Record<string, unknown>[];
  active: () => string | undefined;
  stderr: () => string;
}

/** Runs the route lab agent inside the `edge` namespace; stdout is one JSON event per line, stderr its JSON log. */
export function spawnLabAgent(stateDir: string, config: unknown, env: NodeJS.ProcessEnv = {}): LabAgent {
  const agent = spawn('ip', ['netns', 'exec', NS.edge, process.execPath, AGENT, stateDir, JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const events: LabEvent[] = [];
  const logs: Record<string, unknown>[] = [];
  onJsonLines(agent.stdout, (rec) => events.push(rec as unknown as LabEvent));
  onJsonLines(agent.stderr, (rec) => logs.push(rec));
  let err = '';
  agent.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return { agent, events, logs, active: () => events.filter((e) => e.event === 'active').at(-1)?.uplink, stderr: () => err };
}

/** Polls `cond` every 50 ms for at most `ms` (bounded). */
export async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  for (let i = 0; i < ms / 50; i++) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

/** The two lab uplinks: wan through gw1 (e1) and lte through gw2 (e2), both probing the lab target. */
export function labUplinks(
  opts: { dualStack?: boolean } = {},
): { name: string; interface: string; gateway: string; sourceAddress: string; priority: number; targets: string[]; gateway6?: string }[] {
  const uplink = (name: string, dev: string, n: number) => ({
    name,
    interface: dev,
    gateway: `10.201.${n}.1`,
    sourceAddress: `10.201.${n}.2`,
    priority: n * 10,
    targets: [`${TARGET}:${PORT}`],
    ...(opts.dualStack ? { gateway6: `fd00:201:${n}::1` } : {}),
  });
  return [uplink('wan', 'e1', 1), uplink('lte', 'e2', 2)];
}

/**
 * Builds the lab and waits for its TCP target; registers on `t` the cleanup of every process pushed to `procs`, the
 * namespaces and the state dir, so a failing assertion never leaves anything behind.
 */
export async function openLab(t: { after(fn: () => void): void }): Promise<{ stateDir: string; procs: ChildProcess[] }> {
  const stateDir = mkdtempSync(join(tmpdir(), 'lwr-state-'));
  const procs: ChildProcess[] = [];
  t.after(() => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    removeLab();
    rmSync(stateDir, { recursive: true, force: true });
  });
  const server = createLab();
  procs.push(server);
  const started = await new Promise<boolean>((r) => {
    server.stdout!.once('data', () => r(true));
    setTimeout(() => r(false), TARGET_START_MS);
  });
  if (!started) throw new Error(`route lab: the TCP target did not start within ${TARGET_START_MS} ms`);
  return { stateDir, procs };
}
